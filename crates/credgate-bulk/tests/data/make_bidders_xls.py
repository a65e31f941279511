"""Writes bidders.xls, the XLS fixture of tests/officer.rs (xlwt 1.3.0).

A first sheet of instructions without a header; a second sheet with a
merged title row, a blank row, Chinese headers, a code stored as a number
and a blank row between bidders, as exported by government systems.
"""
import xlwt

book = xlwt.Workbook(encoding="utf-8")
notes = book.add_sheet("填写说明")
notes.write(0, 0, "请在第二页填写投标人")
sheet = book.add_sheet("投标人")
sheet.write_merge(0, 0, 0, 3, "2026年某项目投标人名单")
for c, h in enumerate(["序号", "单位名称", "统一社会信用代码", "法定代表人身份证号"]):
    sheet.write(2, c, h)
sheet.write(3, 0, 1)
sheet.write(3, 1, "甲公司")
sheet.write(3, 2, 913213233634161900.0)
sheet.write(4, 0, 2)
sheet.write(4, 1, "乙公司")
sheet.write(4, 2, "91350100M000100Y43")
sheet.write(4, 3, "11010519491231002X")
sheet.write(6, 0, 3)
sheet.write(6, 1, "丙公司")
book.save("bidders.xls")
