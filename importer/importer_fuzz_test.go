package importer_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/importer"
)

// fuzzKinds are the default kinds FuzzParse picks from: none, then each kind.
var fuzzKinds = append([]medmatch.Kind{""}, medmatch.Kinds...)

// FuzzParse feeds arbitrary bytes to Parse in either format and checks that
// it never panics, that every reported line is ≥ 1 and reported once, that
// rejected rows carry an EINVALID error, and that every parsed record
// survives a JSON round trip through medmatch.DecodeRecord unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []struct {
		data string
		csv  bool
		kind uint8
	}{
		{`{"type":"team","id":"team-1","name":"智能医学工程研究所","institution":"青岑工业大学","expertise":"算法"}`, false, 0},
		{`{"type":"achievement","id":"ach-1","title":"骨钉","description":"d","institution":"东岚骨科医院","specialty":"创伤骨科","fields":["IVD","器械"],"maturity":"preclinical","price":{"min":200,"max":400},"ip":{"type":"invention","status":"granted","numbers":["ZL1"]},"transfer_modes":["license"],"created_at":"2026-01-02T15:04:05+08:00"}`, false, 0},
		{`{"type":"demand","enterprise_id":"ent-1","title":"t","description":"d","budget":{"negotiable":true},"maturity":["prototype"],"deadline":"2027-06-30"}` + "\n\n" + `{"type":"need","title":"t"}`, false, 0},
		{"\xef\xbb\xbf{\"name\":\"组\"}\r\n\r\n{\"name\":\"组2\",\"synthetic\":true,\"version\":2}\n", false, 3},
		{`{"type":"team","name":` + "\n" + `{"titel":"x"}` + "\n[1]\nnull\n" + `{"type":5}`, false, 1},
		{"type,id,title,fields,price_min,price.max,price_negotiable,synthetic\nachievement,ach-1,骨钉,医疗器械;体外诊断,\"1,200\",1500,面议,是\n", true, 0},
		{"\xef\xbb\xbftype,name,expertise\nteam,组,\"第一行\n第二行\"\n\nteam,组2\n", true, 0},
		{"name,institution,specialties,fields\n组,青岑工业大学,神经外科、影像科,医疗AI|器械\n", true, 3},
		{"type,enterprise_id,budget_min,maturity,deadline\ndemand,ent-1,50,prototype；preclinical,2027-06-30\n", true, 0},
		{"type,name\nteam,a\"b\nteam,\"unterminated\n", true, 0},
		{"type,,name\n", true, 0},
		{"type,name,colour\nteam,组,red\n,x,\n", true, 4},
	} {
		f.Add([]byte(s.data), s.csv, s.kind)
	}
	f.Fuzz(func(t *testing.T, data []byte, isCSV bool, kindIndex uint8) {
		format := importer.JSONL
		if isCSV {
			format = importer.CSV
		}
		kind := fuzzKinds[int(kindIndex)%len(fuzzKinds)]

		rows, bad, err := importer.Parse(bytes.NewReader(data), format, kind)

		if err != nil {
			if code := medmatch.ErrorCode(err); code == medmatch.EINTERNAL || rows != nil || bad != nil {
				t.Fatalf("Parse(%s, %q) = %d rows, %d bad, %v (code %s); want no rows and a coded error", format, data, len(rows), len(bad), err, code)
			}
			return
		}
		seen := make(map[int]bool)
		last := 0
		for _, b := range bad {
			if b.Line < 1 || seen[b.Line] || b.Line <= last {
				t.Errorf("Parse(%s, %q) rejected line %d; want lines ≥ 1, increasing, each reported once", format, data, b.Line)
			}
			seen[b.Line], last = true, b.Line
			if b.Action != medmatch.ActionReject || b.Error == nil || b.Error.Code != medmatch.EINVALID {
				t.Errorf("Parse(%s, %q) bad row %+v; want action reject with an EINVALID error", format, data, b)
			}
		}
		last = 0
		for _, r := range rows {
			if r.Line < 1 || seen[r.Line] || r.Line <= last {
				t.Errorf("Parse(%s, %q) row on line %d; want lines ≥ 1, increasing, each reported once", format, data, r.Line)
			}
			seen[r.Line], last = true, r.Line
			if r.Record == nil || !r.Record.Kind().Valid() {
				t.Fatalf("Parse(%s, %q) row on line %d has record %v; want a record of a known kind", format, data, r.Line, r.Record)
			}
			first, err := json.Marshal(r.Record)
			if err != nil {
				t.Fatalf("json.Marshal(line %d record %+v) = %v", r.Line, r.Record, err)
			}
			again, err := medmatch.DecodeRecord(r.Record.Kind(), first)
			if err != nil {
				t.Fatalf("DecodeRecord(%s, %s) = %v; want the record back (from %s line %d of %q)", r.Record.Kind(), first, err, format, r.Line, data)
			}
			second, err := json.Marshal(again)
			if err != nil {
				t.Fatalf("json.Marshal(decoded %+v) = %v", again, err)
			}
			if !bytes.Equal(first, second) {
				t.Errorf("round trip of %s line %d of %q:\n first  %s\n second %s", format, r.Line, data, first, second)
			}
		}
	})
}
