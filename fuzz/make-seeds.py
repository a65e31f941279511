#!/usr/bin/env python3
"""Writes the seed corpora into corpus/<target>/ (small files from the
tests' fixtures and a few generated entries). Run from fuzz/ with a built
`credgate` binary: python3 make-seeds.py ../target/debug/credgate

The checked-in corpora grew from these seeds and were minimised with
`cargo fuzz cmin`; rerun this only to start again."""

import io
import os
import subprocess
import sys
import tempfile
import zipfile

CREDGATE = sys.argv[1]


def put(target, name, data):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


HEADER = ("entry_id,list,subject_type,name,code,category,authority,"
          "document_number,listed_on,valid_until,severity,status,"
          "legal_rep_name,legal_rep_id_number")
GOOD = ("E1,black,organisation,南京恒瑞科技有限公司,91320106MA1K3BTP2E,"
        "court_defaulter,南京市中级人民法院,(2024)苏01执1号,2024-03-01,"
        "2027-03-01,serious,active,张伟,360426199101010071")
GOOD_PERSON = ("E2,black,person,张伟,360426199101010071,court_defaulter,"
               "南京市中级人民法院,(2024)苏01执2号,2024/03/05,,general,,,")
JSONL = ('{"entry_id":"J1","list":8,"subject_type":"organisation",'
         '"name":"南京恒瑞科技有限公司","code":"91320106MA1K3BTP2E",'
         '"category":"court_defaulter","authority":"南京市中级人民法院",'
         '"document_number":"(2024)苏01执1号","listed_on":"2024-03-01",'
         '"severity":"serious","secondary_ids":["320106000123456"],'
         '"related_parties":[{"role":"actual_controller","name":"张伟",'
         '"id_number":"360426199101010071"}]}')

# entries: first byte 0 = CSV (auto), 1 = JSONL, 4 = CSV GB18030.
with tempfile.TemporaryDirectory() as tmp:
    for ext, sel in (("csv", b"\x00"), ("jsonl", b"\x01")):
        out = os.path.join(tmp, "gen." + ext)
        subprocess.run([CREDGATE, "gen", "--entries", "6", "--seed", "8",
                        "--out", out], check=True, capture_output=True)
        put("entries", "gen-" + ext, sel + open(out, "rb").read())
    csv = HEADER + "\n" + GOOD + "\n" + GOOD_PERSON + "\n"
    put("entries", "tests-csv", b"\x00" + csv.encode())
    put("entries", "tests-csv-gbk", b"\x04" + csv.encode("gb18030"))
    put("entries", "tests-csv-bom-crlf",
        b"\x00\xef\xbb\xbf" + csv.replace("\n", "\r\n").encode())
    put("entries", "tests-jsonl", b"\x01" + JSONL.encode() + b"\n")

    # snapshot: first byte 0 = as is, 1 = checksums repaired.
    entries = os.path.join(tmp, "e.csv")
    snap = os.path.join(tmp, "s.snapshot")
    subprocess.run([CREDGATE, "gen", "--entries", "12", "--seed", "8",
                    "--out", entries], check=True, capture_output=True)
    subprocess.run([CREDGATE, "build", "--input", entries, "--out", snap],
                   check=True, capture_output=True)
    data = open(snap, "rb").read()
    put("snapshot", "valid", b"\x00" + data)
    put("snapshot", "valid-repaired", b"\x01" + data)

BIDDERS = ("投标人名称,统一社会信用代码,法定代表人,法定代表人证件号码\n"
           "南京恒瑞科技有限公司,91320106MA1K3BTP2E,张伟,360426199101010071\n"
           "苏州恒瑞建设工程有限公司,,张伟,360426199101010071\n"
           "某某商贸有限公司,91320106MA1K3BTP2X,,\n")
put("bulk_csv", "bidders", BIDDERS)
put("bulk_csv", "bidders-gbk", BIDDERS.encode("gb18030"))
put("bulk_csv", "ragged", "name,code\ngood1,\nragged,,extra\ngood2,\n")
put("bulk_csv", "quotes-bom-crlf",
    '\ufeffname,code\r\n"a ""b"" c\r\nd",91320106MA1K3BTP2E\r\n')


def xlsx(rows):
    """A minimal workbook: one sheet, inline strings and numbers."""
    def ref(r, c):
        return chr(ord("A") + c) + str(r + 1)
    cells = []
    for r, row in enumerate(rows):
        cs = []
        for c, v in enumerate(row):
            if isinstance(v, (int, float)):
                cs.append('<c r="%s"><v>%s</v></c>' % (ref(r, c), v))
            else:
                cs.append('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>'
                          % (ref(r, c), v))
        cells.append('<row r="%d">%s</row>' % (r + 1, "".join(cs)))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
             '"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<dimension ref="A1:%s"/><sheetData>%s</sheetData></worksheet>'
             % (ref(len(rows) - 1, len(rows[0]) - 1), "".join(cells)))
    files = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://'
            'schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension'
            '="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override '
            'PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"'
            '/></Types>',
        "_rels/.rels":
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
            'http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org'
            '/officeDocument/2006/relationships/officeDocument" Target="xl/'
            'workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://'
            'schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="'
            'http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id='
            '"rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
            'http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org'
            '/officeDocument/2006/relationships/worksheet" Target="'
            'worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buf = io.BytesIO()
    # Stored, not deflated: mutations then reach the XML itself.
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, text in files.items():
            z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


put("bulk_xlsx", "bidders", xlsx([
    ["投标人名称", "统一社会信用代码", "法定代表人", "法定代表人证件号码"],
    ["南京恒瑞科技有限公司", "91320106MA1K3BTP2E", "张伟", 360426199101010071],
    ["苏州恒瑞建设工程有限公司", "", "张伟", "360426199101010071"],
]))
put("bulk_xlsx", "numbers", xlsx([["name", "code"], ["a", 1.5], ["b", 12]]))

for i, s in enumerate([
        "91 110000 600037341l", "91110000600037341N", "91320106MA1K3BTP2E",
        "360426199101010071", "44011320141005001x", "３６０４２６１９９１０１０１００７１",
        "3604—2619910101—0071", "11010519491231002X", "110105194902310021",
        "9132010", "N1110000600037341L", "91110000600037341", ""]):
    put("ident", "test-%02d" % i, s)

for i, s in enumerate([
        "南京恒瑞建设工程有限公司", "恒瑞建设（南京）有限公司", "苏州恒瑞科技股份有限公司",
        "南京恒瑞科技有限公司江宁分公司", "阿卜杜拉·买买提", "ＡＢＣ 貿易 有限責任公司",
        "【上海】某某商贸有限公司", "张伟", "John  Smith-Jones"]):
    put("names", "test-%02d" % i, s)

# request_json: first byte 0 = /v1/screen, 1 = batch, 2 = activate.
SCREEN = ('{"code":"91320106MA1K3BTP2E","name":"南京恒瑞科技有限公司",'
          '"subject_type":"organisation","scenario":"government_procurement",'
          '"lists":["black","focus"],"categories":["court_defaulter"],'
          '"include_related":true,"legal_rep_code":"360426199101010071"}')
put("request_json", "screen", b"\x00" + SCREEN.encode())
put("request_json", "screen-name", b'\x00{"name":"\xe5\xbc\xa0\xe4\xbc\x9f"}')
put("request_json", "batch",
    b"\x01" + ('{"items":[%s,{"code":"x"},{}]}' % SCREEN).encode())
put("request_json", "activate", b'\x02{"version":"first.snapshot"}')
put("request_json", "activate-unknown", b'\x02{"version":"../x"}')
