package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/importer"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var organizer = medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "k-org"}

func errField(err error) string {
	var e *medmatch.Error
	if !errors.As(err, &e) {
		return "<not *Error>"
	}
	return e.Field
}

func describe(err error) string {
	if err == nil {
		return "nil"
	}
	return fmt.Sprintf("%s (field %q: %v)", medmatch.ErrorCode(err), errField(err), err)
}

// summary renders what Parse returned, in line order: "3:team" for a row,
// "4:team!nmae" for a rejected row (kind, if known, and the field at
// fault; "4:!" when no field is named).
func summary(rows []importer.Row, bad []importer.RowReport) string {
	type item struct {
		line int
		s    string
	}
	var items []item
	for _, r := range rows {
		items = append(items, item{r.Line, fmt.Sprintf("%d:%s", r.Line, r.Record.Kind())})
	}
	for _, b := range bad {
		field := "<no error>"
		if b.Error != nil {
			field = b.Error.Field
			if b.Error.Code != medmatch.EINVALID {
				field += "(" + b.Error.Code + ")"
			}
		}
		if b.Action != medmatch.ActionReject {
			field += "(action " + b.Action + ")"
		}
		items = append(items, item{b.Line, fmt.Sprintf("%d:%s!%s", b.Line, b.Kind, field)})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].line < items[j].line })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.s
	}
	return strings.Join(out, " ")
}

const team1 = `{"type":"team","name":"组"}`

func TestParseJSONL(t *testing.T) {
	for _, c := range []struct {
		name string
		kind medmatch.Kind
		in   string
		want string
	}{
		{"type from the row", "", team1, "1:team"},
		{"default kind", medmatch.KindTeam, `{"name":"组"}`, "1:team"},
		{"type from the row wins over the default", medmatch.KindAchievement, `{"type":"need","title":"t"}`, "1:need"},
		{"plural, upper-case type", "", `{"type":" Teams ","name":"组"}`, "1:team"},
		{"every kind", "", `{"type":"achievement"}` + "\n" + `{"type":"need"}` + "\n" + `{"type":"team"}` + "\n" +
			`{"type":"enterprise"}` + "\n" + `{"type":"demand"}`, "1:achievement 2:need 3:team 4:enterprise 5:demand"},
		{"missing type", "", `{"name":"组"}`, "1:!type"},
		{"type not a string", "", `{"type":5,"name":"组"}`, "1:!type"},
		{"type null", "", `{"type":null}`, "1:!type"},
		{"unknown type", "", `{"type":"patent"}`, "1:!type"},
		{"unknown type with a default", medmatch.KindTeam, `{"type":"patent"}`, "1:!type"},
		{"unknown field", "", `{"type":"team","nmae":"组"}`, "1:team!nmae"},
		{"unknown field, default kind", medmatch.KindAchievement, `{"titel":"骨钉"}`, "1:achievement!titel"},
		{"field of another kind", "", `{"type":"team","hospital":"云岫市中心医院"}`, "1:team!hospital"},
		{"type mismatch", "", `{"type":"achievement","fields":"医疗器械"}`, "1:achievement!fields"},
		{"nested type mismatch", "", `{"type":"demand","budget":{"min":"50"}}`, "1:demand!budget.min"},
		{"bad JSON on line 3", "", team1 + "\n" + team1 + "\n" + `{"type":"team",` + "\n" + team1, "1:team 2:team 3:! 4:team"},
		{"single quotes", "", `{'type':'team'}`, "1:!"},
		{"an array", "", `[1,2]`, "1:!"},
		{"a string", medmatch.KindTeam, `"team"`, "1:!"},
		{"a number", medmatch.KindTeam, `42`, "1:!"},
		{"trailing data", "", team1 + ` x`, "1:!"},
		{"two objects on a line", "", team1 + team1, "1:!"},
		{"blank lines skipped, lines still counted", "", "\n\n" + team1 + "\n \t \n" + team1 + "\n\n", "3:team 5:team"},
		{"CRLF", "", team1 + "\r\n\r\n" + team1 + "\r\n", "1:team 3:team"},
		{"no final newline", "", team1 + "\n" + team1, "1:team 2:team"},
		{"UTF-8 BOM", "", "\xef\xbb\xbf" + team1 + "\n" + team1, "1:team 2:team"},
		{"UTF-8 BOM on a blank first line", "", "\xef\xbb\xbf\n" + team1, "2:team"},
		{"BOM not on the first line", "", team1 + "\n\xef\xbb\xbf" + team1, "1:team 2:!"},
		{"indented object", "", "   " + team1 + "\t", "1:team"},
		{"empty input", "", "", ""},
		{"only blank lines", "", "\n \n\r\n", ""},
	} {
		rows, bad, err := importer.Parse(strings.NewReader(c.in), importer.JSONL, c.kind)
		if err != nil {
			t.Errorf("Parse(jsonl, %q: %q) error = %s; want nil", c.name, c.in, describe(err))
			continue
		}
		if got := summary(rows, bad); got != c.want {
			t.Errorf("Parse(jsonl, %q: %q) = %q; want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestParseJSONLValues(t *testing.T) {
	in := `{"type":"demand","id":"dem-1","enterprise_id":"ent-1","title":"t","description":"d","budget":{"min":50,"max":80},"maturity":["prototype"]}`
	rows, bad, err := importer.Parse(strings.NewReader(in), importer.JSONL, "")
	if err != nil || len(bad) != 0 || len(rows) != 1 {
		t.Fatalf("Parse(jsonl, %q) = %d rows, %v, %s; want 1 row", in, len(rows), bad, describe(err))
	}
	want := &medmatch.Demand{Meta: medmatch.Meta{ID: "dem-1"}, EnterpriseID: "ent-1", Title: "t", Description: "d",
		Budget: &medmatch.Price{Min: 50, Max: 80}, Maturity: []medmatch.Maturity{"prototype"}}
	if !reflect.DeepEqual(rows[0].Record, want) {
		t.Errorf("Parse(jsonl, %q) record = %+v; want %+v", in, rows[0].Record, want)
	}
}

func TestParseCSV(t *testing.T) {
	for _, c := range []struct {
		name string
		kind medmatch.Kind
		in   string
		want string
	}{
		{"type column", "", "type,name,institution,expertise\nteam,组,青岑工业大学,算法\n", "2:team"},
		{"default kind, no type column", medmatch.KindTeam, "name,institution\n组,青岑工业大学\n", "2:team"},
		{"empty type cell takes the default", medmatch.KindTeam, "type,name,title\n,组,\nneed,,t\n", "2:team 3:need"},
		{"type column wins over the default", medmatch.KindAchievement, "type,title\nneed,t\n", "2:need"},
		{"empty type cell, no default", "", "type,name\n,组\n", "2:!type"},
		{"no type column, no default", "", "name\n组\n", "2:!type"},
		{"unknown type", "", "type,name\npatent,x\n", "2:!type"},
		{"plural, upper-case type", "", "type,name\n Teams ,组\n", "2:team"},
		{"header case and spaces", "", " Type , NAME \nteam,组\n", "2:team"},
		{"mixed kinds, blank cells of other kinds' columns", "",
			"type,name,title,hospital\nteam,组,,\nneed,,t,云岫市中心医院\n", "2:team 3:need"},
		{"column of another kind filled", "", "type,name,hospital\nteam,组,云岫市中心医院\n", "2:team!hospital"},
		{"too many columns", "", "type,name\nteam,组,多余\nteam,组\n", "2:! 3:team"},
		{"too few columns", "", "type,name,expertise\nteam,组\nteam,组,x\n", "2:! 3:team"},
		{"quoted multi-line cell", "", "type,name,expertise\nteam,组,\"第一行\n第二行\n第三行\"\nteam,组2,x\n", "2:team 5:team"},
		{"multi-line row with too many columns: line of the row start", "",
			"type,name\nteam,\"第一行\n第二行\",多余\nteam,组\n", "2:! 4:team"},
		{"multi-line row with a bad value: line of the row start", "",
			"type,name,synthetic\nteam,\"第一行\n第二行\",maybe\nteam,组,no\n", "2:team!synthetic 4:team"},
		{"quoted separator and quotes", "", "type,name,expertise\nteam,\"组,一\",\"\"\"端侧\"\"部署\"\n", "2:team"},
		{"blank lines skipped, lines still counted", "", "type,name\n\nteam,组\n\n\nteam,组\n", "3:team 6:team"},
		{"row of spaces skipped", "", "type,name\n   \nteam,组\n", "3:team"},
		{"row of empty cells", medmatch.KindTeam, "type,name\n,\n", "2:team"},
		{"CRLF", "", "type,name\r\nteam,组\r\n\r\nteam,组\r\n", "2:team 4:team"},
		{"UTF-8 BOM", "", "\xef\xbb\xbftype,name\nteam,组\n", "2:team"},
		{"header only", "", "type,name\n", ""},
		{"empty input", "", "", ""},
		{"bad number", "", "type,title,price_min\nachievement,t,五十\n", "2:achievement!price.min"},
		{"number with a unit", "", "type,title,price.max\nachievement,t,50万\n", "2:achievement!price.max"},
		{"bad boolean", "", "type,name,synthetic\nteam,组,maybe\n", "2:team!synthetic"},
		{"bad integer", "", "type,name,version\nteam,组,x\n", "2:team!version"},
		{"bare quote in a cell", "", "type,name\nteam,a\"b\nteam,c\n", "2:! 3:team"},
		{"unterminated quote", "", "type,name\nteam,组\nteam,\"组\n", "2:team 3:!"},
		{"text after a closing quote", "", "type,name\nteam,\"组\"x\nteam,c\n", "2:! 3:team"},
	} {
		rows, bad, err := importer.Parse(strings.NewReader(c.in), importer.CSV, c.kind)
		if err != nil {
			t.Errorf("Parse(csv, %q: %q) error = %s; want nil", c.name, c.in, describe(err))
			continue
		}
		if got := summary(rows, bad); got != c.want {
			t.Errorf("Parse(csv, %q: %q) = %q; want %q", c.name, c.in, got, c.want)
		}
	}
}

// TestParseCSVValues checks how cells become fields: lists, nested
// columns, booleans and numbers.
func TestParseCSVValues(t *testing.T) {
	parse := func(t *testing.T, in string) medmatch.Record {
		t.Helper()
		rows, bad, err := importer.Parse(strings.NewReader(in), importer.CSV, "")
		if err != nil || len(bad) != 0 || len(rows) != 1 {
			t.Fatalf("Parse(csv, %q) = %d rows, %s, %s; want 1 row", in, len(rows), summary(nil, bad), describe(err))
		}
		return rows[0].Record
	}

	t.Run("all columns", func(t *testing.T) {
		in := "type,id,external_id,title,fields,team,transfer_modes,price_min,price.max,price_negotiable,ip_type,ip.status,ip_numbers,synthetic,version\n" +
			`achievement,ach-1,SRC-1,骨钉,医疗器械;生物材料,甲组、乙组,license|equity,"1,200",1500.5,面议,invention,granted,ZL1；ZL2,是,3` + "\n"
		want := &medmatch.Achievement{
			Meta:  medmatch.Meta{ID: "ach-1", ExternalID: "SRC-1", Synthetic: true, Version: 3},
			Title: "骨钉", Fields: []string{"医疗器械", "生物材料"}, Team: []string{"甲组", "乙组"},
			TransferModes: []medmatch.TransferMode{"license", "equity"},
			Price:         &medmatch.Price{Min: 1200, Max: 1500.5, Negotiable: true},
			IP:            &medmatch.IP{Type: "invention", Status: "granted", Numbers: []string{"ZL1", "ZL2"}},
		}
		if got := parse(t, in); !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(csv, %q) = %+v; want %+v", in, got, want)
		}
	})

	t.Run("demand", func(t *testing.T) {
		in := "type,enterprise_id,budget_min,budget.max,budget_negotiable,maturity,deadline\n" +
			"demand,ent-1,50,80,否,prototype;preclinical,2027-06-30\n"
		want := &medmatch.Demand{EnterpriseID: "ent-1", Budget: &medmatch.Price{Min: 50, Max: 80},
			Maturity: []medmatch.Maturity{"prototype", "preclinical"}, Deadline: "2027-06-30"}
		if got := parse(t, in); !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(csv, %q) = %+v; want %+v", in, got, want)
		}
	})

	t.Run("list separators", func(t *testing.T) {
		for _, c := range []struct {
			cell string
			want []string
		}{
			{"医疗器械", []string{"医疗器械"}},
			{"医疗器械;体外诊断", []string{"医疗器械", "体外诊断"}},
			{"医疗器械；体外诊断", []string{"医疗器械", "体外诊断"}},
			{"医疗器械、体外诊断", []string{"医疗器械", "体外诊断"}},
			{"医疗器械|体外诊断", []string{"医疗器械", "体外诊断"}},
			{" 医疗器械 ； 体外诊断 、生物材料|数字医疗 ;", []string{"医疗器械", "体外诊断", "生物材料", "数字医疗"}},
			{"医疗器械;;、 ;", []string{"医疗器械"}},
			{"\"医疗器械,体外诊断\"", []string{"医疗器械,体外诊断"}}, // a comma is not a list separator
		} {
			in := "type,name,fields\nenterprise,岚芯," + c.cell + "\n"
			got := parse(t, in).(*medmatch.Enterprise).Fields
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Parse(csv fields %q).Fields = %q; want %q", c.cell, got, c.want)
			}
		}
	})

	t.Run("booleans", func(t *testing.T) {
		for _, c := range []struct {
			cell string
			want string // "true", "false" or "error"
		}{
			{"true", "true"}, {"TRUE", "true"}, {"yes", "true"}, {"Y", "true"}, {"1", "true"}, {"是", "true"}, {"面议", "true"},
			{"false", "false"}, {"False", "false"}, {"no", "false"}, {"n", "false"}, {"0", "false"}, {"否", "false"},
			{"maybe", "error"}, {"2", "error"}, {"不是", "error"}, {"t", "error"},
		} {
			in := "type,name,synthetic\nteam,组," + c.cell + "\n"
			rows, bad, err := importer.Parse(strings.NewReader(in), importer.CSV, "")
			got := "error"
			if err == nil && len(bad) == 0 && len(rows) == 1 {
				got = fmt.Sprint(rows[0].Record.Base().Synthetic)
			} else if err != nil || len(bad) != 1 || bad[0].Error.Field != "synthetic" {
				got = fmt.Sprintf("%s, %s", summary(rows, bad), describe(err))
			}
			if got != c.want {
				t.Errorf("Parse(csv synthetic %q) = %s; want %s", c.cell, got, c.want)
			}
		}
	})

	t.Run("numbers", func(t *testing.T) {
		for _, c := range []struct {
			cell string
			want string // the budget's min, or "error"
		}{
			{"50", "50"}, {" 80 ", "80"}, {"12.5", "12.5"}, {"1,000", "1000"}, {"1,234.5", "1234.5"},
			{"1,000,000", "1e+06"}, {"1e3", "1000"}, {"-5", "-5"}, {"0", "0"},
			{"五十", "error"}, {"50万", "error"}, {"¥50", "error"}, {"50%", "error"}, {"1.2.3", "error"},
		} {
			in := "type,enterprise_id,budget_min\ndemand,ent-1,\"" + c.cell + "\"\n"
			rows, bad, err := importer.Parse(strings.NewReader(in), importer.CSV, "")
			got := "error"
			if err == nil && len(bad) == 0 && len(rows) == 1 {
				got = "0"
				if b := rows[0].Record.(*medmatch.Demand).Budget; b != nil {
					got = fmt.Sprint(b.Min)
				}
			} else if err != nil || len(bad) != 1 || bad[0].Error.Field != "budget.min" {
				got = fmt.Sprintf("%s, %s", summary(rows, bad), describe(err))
			}
			if got != c.want {
				t.Errorf("Parse(csv budget_min %q) = %s; want %s", c.cell, got, c.want)
			}
		}
	})
}

// TestParseFails covers problems that stop the whole parse.
func TestParseFails(t *testing.T) {
	for _, c := range []struct {
		name   string
		format importer.Format
		kind   medmatch.Kind
		in     string
		code   string
		field  string
	}{
		{"unknown default kind", importer.JSONL, "patent", team1, medmatch.EINVALID, "type"},
		{"plural default kind", importer.CSV, "teams", "name\n组\n", medmatch.EINVALID, "type"},
		{"unknown format", "xml", "", team1, medmatch.EUNSUPPORTED, "format"},
		{"header with an empty name", importer.CSV, "", "type,,name\nteam,x,组\n", medmatch.EINVALID, "header"},
		{"header with a blank name", importer.CSV, "", "type, ,name\nteam,x,组\n", medmatch.EINVALID, "header"},
		{"header with a trailing comma", importer.CSV, "", "type,name,\nteam,组,\n", medmatch.EINVALID, "header"},
		{"duplicate column", importer.CSV, "", "type,name,name\nteam,组,组\n", medmatch.EINVALID, "header"},
		{"duplicate column in another case", importer.CSV, "", "type,Name, name \nteam,组,组\n", medmatch.EINVALID, "header"},
		{"unknown column", importer.CSV, "", "type,name,colour\nteam,组,red\n", medmatch.EINVALID, "colour"},
		{"unknown column, even when every cell is empty", importer.CSV, "", "type,name,colour\nteam,组,\n", medmatch.EINVALID, "colour"},
		{"unknown nested column", importer.CSV, "", "type,title,price.currency\nachievement,t,CNY\n", medmatch.EINVALID, "price.currency"},
		{"column of no kind given", importer.CSV, medmatch.KindTeam, "name,hospital\n组,x\n", medmatch.EINVALID, "hospital"},
		{"header with a bare quote", importer.CSV, "", "ty\"pe,name\nteam,组\n", medmatch.EINVALID, "header"},
		{"JSONL line too long", importer.JSONL, "", team1 + "\n" + strings.Repeat(" ", importer.MaxLineBytes+1) + "\n", medmatch.ETOOLARGE, ""},
	} {
		rows, bad, err := importer.Parse(strings.NewReader(c.in), c.format, c.kind)
		if rows != nil || bad != nil || medmatch.ErrorCode(err) != c.code || errField(err) != c.field {
			t.Errorf("Parse(%s, %s) = %d rows, %d bad, %s; want %s naming %q", c.format, c.name, len(rows), len(bad), describe(err), c.code, c.field)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for _, c := range []struct {
		in   string
		want importer.Format // "" unsupported
	}{
		{"records.jsonl", importer.JSONL},
		{"/tmp/RECORDS.NDJSON", importer.JSONL},
		{"jsonl", importer.JSONL},
		{"application/x-ndjson", importer.JSONL},
		{"application/jsonl; charset=utf-8", importer.JSONL},
		{"成果.csv", importer.CSV},
		{"text/csv; charset=utf-8", importer.CSV},
		{"CSV", importer.CSV},
		{"records.json", ""},
		{"records.xlsx", importer.XLSX},
		{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", importer.XLSX},
		{"records.xls", ""},
		{"", ""},
	} {
		got, err := importer.FormatOf(c.in)
		if c.want != "" && (got != c.want || err != nil) || c.want == "" && medmatch.ErrorCode(err) != medmatch.EUNSUPPORTED {
			t.Errorf("FormatOf(%q) = %q, %s; want %q", c.in, got, describe(err), c.want)
		}
	}
}

// The store side.

func openStore(t *testing.T) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(t.TempDir(), bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// achLine is a JSONL achievement with the given id and maturity.
func achLine(id, maturity string) string {
	return fmt.Sprintf(`{"type":"achievement","id":%q,"title":"可降解镁合金骨钉","description":"用于骨折内固定。","institution":"东岚骨科医院","specialty":"骨科","fields":["生物材料"],"maturity":%q}`, id, maturity)
}

// actions renders the rows of a report as "line:action".
func actions(rep *importer.Report) string {
	var out []string
	for _, r := range rep.Rows {
		out = append(out, fmt.Sprintf("%d:%s", r.Line, r.Action))
	}
	return strings.Join(out, " ")
}

func counts(t *testing.T, s medmatch.Store) map[medmatch.Kind]int {
	t.Helper()
	c, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range c {
		if n == 0 {
			delete(c, k)
		}
	}
	return c
}

func head(t *testing.T, s medmatch.Store) uint64 {
	t.Helper()
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestImportAllOrNothing(t *testing.T) {
	for _, c := range []struct {
		name    string
		in      string
		actions string
	}{
		{"a row the store rejects", achLine("ach-1", "idea") + "\n" + achLine("ach-2", "mature") + "\n" + achLine("ach-3", "idea"),
			"1:skip 2:reject 3:skip"},
		{"a row that does not parse", achLine("ach-1", "idea") + "\n{\n\n" + achLine("ach-3", "idea"),
			"1:skip 2:reject 4:skip"},
		{"both", achLine("ach-1", "idea") + "\n" + achLine("ach-2", "mature") + "\n{\n" + achLine("ach-3", "idea"),
			"1:skip 2:reject 3:reject 4:skip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t)
			rep, err := importer.Import(context.Background(), s, organizer, "a.jsonl", strings.NewReader(c.in), importer.JSONL, importer.Options{})
			if err != nil {
				t.Fatalf("Import = %s; want a report", describe(err))
			}
			rejected := strings.Count(c.actions, "reject")
			if got := actions(rep); got != c.actions || rep.Written || rep.Created != 0 || rep.Updated != 0 || rep.Rejected != rejected || rep.Seq != 0 {
				t.Errorf("Import(%s) = %s written=%v created=%d updated=%d rejected=%d seq=%d; want %s written=false created=0 updated=0 rejected=%d seq=0",
					c.name, got, rep.Written, rep.Created, rep.Updated, rep.Rejected, rep.Seq, c.actions, rejected)
			}
			for _, r := range rep.Rows {
				if r.Action == importer.ActionSkip && (r.Error != nil || r.Kind != medmatch.KindAchievement || r.ID == "") {
					t.Errorf("Import(%s) skipped row %+v; want kind, id and no error", c.name, r)
				}
			}
			if got := counts(t, s); len(got) != 0 || head(t, s) != 0 {
				t.Errorf("after Import(%s) the store holds %v, head %d; want nothing", c.name, got, head(t, s))
			}
		})
	}
}

func TestImportSkipInvalid(t *testing.T) {
	s := openStore(t)
	in := achLine("ach-1", "idea") + "\n" + achLine("ach-2", "mature") + "\n{\n" + achLine("ach-3", "idea")
	rep, err := importer.Import(context.Background(), s, organizer, "a.jsonl", strings.NewReader(in), importer.JSONL, importer.Options{SkipInvalid: true})
	if err != nil {
		t.Fatalf("Import = %s; want a report", describe(err))
	}
	if got, want := actions(rep), "1:create 2:reject 3:reject 4:create"; got != want || !rep.Written || rep.Created != 2 || rep.Rejected != 2 || rep.Seq != 2 {
		t.Errorf("Import(skip invalid) = %s written=%v created=%d rejected=%d seq=%d; want %s written=true created=2 rejected=2 seq=2",
			got, rep.Written, rep.Created, rep.Rejected, rep.Seq, want)
	}
	ctx := context.Background()
	for _, c := range []struct {
		id   string
		code string
	}{{"ach-1", ""}, {"ach-2", medmatch.ENOTFOUND}, {"ach-3", ""}} {
		if _, err := s.Get(ctx, organizer, medmatch.KindAchievement, c.id); medmatch.ErrorCode(err) != c.code {
			t.Errorf("Get(%s) after the import = %s; want %q", c.id, describe(err), c.code)
		}
	}

	// Every row rejected: nothing written.
	rep, err = importer.Import(ctx, s, organizer, "b.jsonl", strings.NewReader(achLine("ach-9", "mature")), importer.JSONL, importer.Options{SkipInvalid: true})
	if err != nil || rep.Written || rep.Rejected != 1 || actions(rep) != "1:reject" {
		t.Errorf("Import(skip invalid, all bad) = %+v, %s; want written=false, 1:reject", rep, describe(err))
	}
}

func TestImportDryRun(t *testing.T) {
	for _, c := range []struct {
		name    string
		opt     importer.Options
		in      string
		actions string
		created int
	}{
		{"valid rows", importer.Options{DryRun: true}, achLine("ach-1", "idea") + "\n" + achLine("ach-2", "idea"), "1:create 2:create", 2},
		{"skip invalid", importer.Options{DryRun: true, SkipInvalid: true},
			achLine("ach-1", "idea") + "\n" + achLine("ach-2", "mature") + "\nnot json", "1:create 2:reject 3:reject", 1},
		{"default kind", importer.Options{DryRun: true, Kind: medmatch.KindEnterprise}, `{"id":"ent-1","name":"岚芯"}`, "1:create", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t)
			rep, err := importer.Import(context.Background(), s, organizer, "a.jsonl", strings.NewReader(c.in), importer.JSONL, c.opt)
			if err != nil {
				t.Fatalf("Import = %s; want a report", describe(err))
			}
			if got := actions(rep); got != c.actions || !rep.DryRun || rep.Written || rep.Created != c.created || rep.Seq != 0 {
				t.Errorf("Import(dry run, %s) = %s dry_run=%v written=%v created=%d seq=%d; want %s dry_run=true written=false created=%d seq=0",
					c.name, got, rep.DryRun, rep.Written, rep.Created, rep.Seq, c.actions, c.created)
			}
			if got := counts(t, s); len(got) != 0 || head(t, s) != 0 {
				t.Errorf("after a dry run the store holds %v, head %d; want nothing", got, head(t, s))
			}
		})
	}
}

func TestImportUpdateByExternalID(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	first := `{"type":"achievement","external_id":"SRC-1","title":"旧标题","description":"d","institution":"东岚骨科医院","specialty":"骨科","fields":["医疗器械"],"maturity":"idea"}`
	rep, err := importer.Import(ctx, s, organizer, "a.jsonl", strings.NewReader(first), importer.JSONL, importer.Options{})
	if err != nil || actions(rep) != "1:create" || !rep.Written {
		t.Fatalf("Import(first) = %+v, %s; want 1:create", rep, describe(err))
	}
	id := rep.Rows[0].ID
	if !strings.HasPrefix(id, "ach-") {
		t.Fatalf("Import(first) id = %q; want a generated ach- id", id)
	}

	// The same external id, no id: the record is updated, by JSONL and CSV.
	for i, c := range []struct {
		format importer.Format
		in     string
		title  string
	}{
		{importer.JSONL, strings.Replace(first, "旧标题", "新标题", 1), "新标题"},
		{importer.CSV, "type,external_id,title,description,institution,specialty,fields,maturity\n" +
			"achievement,SRC-1,第三个标题,d,东岚骨科医院,骨科,医疗器械,prototype\n", "第三个标题"},
	} {
		rep, err := importer.Import(ctx, s, organizer, "b."+string(c.format), strings.NewReader(c.in), c.format, importer.Options{})
		if err != nil {
			t.Fatalf("Import(%s update) = %s; want a report", c.format, describe(err))
		}
		row := importer.RowReport{}
		if len(rep.Rows) == 1 {
			row = rep.Rows[0]
		}
		if row.Action != medmatch.ActionUpdate || row.ID != id || rep.Updated != 1 || rep.Created != 0 || !rep.Written {
			t.Errorf("Import(%s update) = %+v rows %+v; want one update of %s", c.format, rep, rep.Rows, id)
		}
		r, err := s.Get(ctx, organizer, medmatch.KindAchievement, id)
		if err != nil {
			t.Fatalf("Get(%s) = %s", id, describe(err))
		}
		if a := r.(*medmatch.Achievement); a.Title != c.title || a.Version != int64(i+2) || a.ExternalID != "SRC-1" {
			t.Errorf("Get(%s) after the %s update = title %q version %d external id %q; want %q, %d, SRC-1", id, c.format, a.Title, a.Version, a.ExternalID, c.title, i+2)
		}
	}
	if got := counts(t, s); got[medmatch.KindAchievement] != 1 {
		t.Errorf("after updates by external id the store holds %v; want 1 achievement", got)
	}

	// The external id with another record's id is a conflict.
	clash := strings.Replace(first, `"external_id"`, `"id":"ach-other","external_id"`, 1)
	rep, err = importer.Import(ctx, s, organizer, "c.jsonl", strings.NewReader(clash), importer.JSONL, importer.Options{})
	if err != nil || len(rep.Rows) != 1 || rep.Rows[0].Error == nil || rep.Rows[0].Error.Code != medmatch.ECONFLICT || rep.Rows[0].Error.Field != "external_id" {
		t.Errorf("Import(external id of %s with id ach-other) = %+v, %s; want a row rejected with %s naming external_id", id, rep, describe(err), medmatch.ECONFLICT)
	}
}

// TestReportProblems checks the file:line: field: reason lines of a mixed
// file, including lines after blank lines and a multi-line CSV cell.
func TestReportProblems(t *testing.T) {
	type problem struct {
		line  int
		field string
	}
	for _, c := range []struct {
		name   string
		format importer.Format
		in     string
		want   []problem
	}{
		{"dir/mixed.jsonl", importer.JSONL,
			achLine("ach-1", "idea") + "\n\n" + // 1, 2
				achLine("ach-2", "mature") + "\n" + // 3
				`{"type":"achievement","titel":"x"}` + "\n" + // 4
				"{\n" + // 5
				`{"name":"no type"}` + "\n\n\n" + // 6, 7, 8
				achLine("ach-3", "idea") + "\n" + // 9
				achLine("bad id", "idea") + "\n", // 10
			[]problem{{3, "maturity"}, {4, "titel"}, {5, ""}, {6, "type"}, {10, "id"}}},
		{"mixed.csv", importer.CSV,
			"type,id,title,description,institution,specialty,fields,maturity\n" + // 1
				"achievement,ach-1,t,\"多行\n描述\",东岚骨科医院,骨科,医疗器械,idea\n" + // 2, 3
				"achievement,ach-2,t,d,东岚骨科医院,骨科,医疗器械,mature\n" + // 4
				"achievement,ach-3,t\n" + // 5
				"\n" + // 6
				",ach-4,t,d,东岚骨科医院,骨科,医疗器械,idea\n" + // 7
				"achievement,ach-5,t,\"另一个\n多行\n描述\",东岚骨科医院,心脏,医疗器械,idea\n" + // 8, 9, 10
				"achievement,ach-6,t,d,东岚骨科医院,骨科,医疗器械,idea\n", // 11
			[]problem{{4, "maturity"}, {5, ""}, {7, "type"}, {8, "specialty"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t)
			rep, err := importer.Import(context.Background(), s, organizer, c.name, strings.NewReader(c.in), c.format, importer.Options{})
			if err != nil {
				t.Fatalf("Import = %s; want a report", describe(err))
			}
			file := filepath.Base(c.name)
			if rep.File != file {
				t.Errorf("Report.File = %q; want %q", rep.File, file)
			}
			byLine := make(map[int]*medmatch.Error)
			column := map[int]string{}
			for _, r := range rep.Rows {
				if r.Error != nil {
					byLine[r.Line] = r.Error
					column[r.Line] = r.Column
				}
			}
			var want []string
			for _, p := range c.want {
				e := byLine[p.line]
				if e == nil {
					t.Errorf("Report has no error on line %d; want one naming %q (rows %+v)", p.line, p.field, rep.Rows)
					continue
				}
				switch {
				case p.field == "":
					want = append(want, fmt.Sprintf("%s:%d: %s", file, p.line, e.Message))
				case column[p.line] != "":
					want = append(want, fmt.Sprintf("%s:%d: column %s: %s: %s", file, p.line, column[p.line], p.field, e.Message))
				default:
					want = append(want, fmt.Sprintf("%s:%d: %s: %s", file, p.line, p.field, e.Message))
				}
			}
			if got := rep.Problems(); !reflect.DeepEqual(got, want) {
				t.Errorf("Problems() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestImportGolden imports the hand-written mixed files in testdata twice,
// all or nothing and with skip-invalid, each into a fresh store holding an
// enterprise (ent-seed) and an achievement with external id SRC-ACH-9, and
// compares both reports with testdata/FILE.golden. go test -update
// rewrites the golden files.
func TestImportGolden(t *testing.T) {
	for _, c := range []struct {
		file   string
		format importer.Format
		after  map[medmatch.Kind]int // store counts after the skip-invalid import
	}{
		{"mixed.jsonl", importer.JSONL, map[medmatch.Kind]int{"achievement": 2, "need": 1, "team": 1, "enterprise": 1, "demand": 1}},
		{"mixed.csv", importer.CSV, map[medmatch.Kind]int{"achievement": 2, "need": 1, "team": 1, "enterprise": 1, "demand": 1}},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				AllOrNothing *importer.Report `json:"all_or_nothing"`
				SkipInvalid  *importer.Report `json:"skip_invalid"`
				Stored       []map[string]any `json:"stored_after_skip_invalid"` // without timestamps
			}
			var s *bolt.Store
			for _, opt := range []importer.Options{{}, {SkipInvalid: true}} {
				s = seededStore(t)
				rep, err := importer.Import(context.Background(), s, organizer, path, bytes.NewReader(data), c.format, opt)
				if err != nil {
					t.Fatalf("Import(%s, %+v) = %s; want a report", path, opt, describe(err))
				}
				if opt.SkipInvalid {
					out.SkipInvalid = rep
				} else {
					out.AllOrNothing = rep
					if got := counts(t, s); got[medmatch.KindAchievement] != 1 || got[medmatch.KindEnterprise] != 1 || len(got) != 2 {
						t.Errorf("after the all-or-nothing import of %s the store holds %v; want the two seeded records", c.file, got)
					}
				}
			}
			if got := counts(t, s); !reflect.DeepEqual(got, c.after) {
				t.Errorf("after the skip-invalid import of %s the store holds %v; want %v", c.file, got, c.after)
			}
			out.Stored = stored(t, s)
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := path + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Import(%s) report differs from %s (go test -update rewrites it):\n%s", path, golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// seededStore returns a store holding enterprise ent-seed and achievement
// ach-seed (external id SRC-ACH-9).
func seededStore(t *testing.T) *bolt.Store {
	t.Helper()
	s := openStore(t)
	ctx := context.Background()
	for _, r := range []medmatch.Record{
		&medmatch.Enterprise{Meta: medmatch.Meta{ID: "ent-seed"}, Name: "岚芯医疗科技有限公司"},
		&medmatch.Achievement{
			Meta: medmatch.Meta{ID: "ach-seed", ExternalID: "SRC-ACH-9"}, Title: "可充电脑起搏器",
			Description: "双通道。", Institution: "东岚医科大学附属第一医院", Specialty: "神经",
			Fields: []string{"医疗器械"}, Maturity: medmatch.MaturityClinicalTrial,
		},
	} {
		if _, err := s.Create(ctx, organizer, r); err != nil {
			t.Fatalf("Create(%s) = %s", r.Base().ID, describe(err))
		}
	}
	return s
}

// stored returns every record in s as a JSON object with its type and
// without its timestamps, by kind and id.
func stored(t *testing.T, s medmatch.Store) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, k := range medmatch.Kinds {
		page, err := s.List(context.Background(), organizer, k, medmatch.ListOptions{Limit: medmatch.MaxLimit})
		if err != nil {
			t.Fatalf("List(%s) = %s", k, describe(err))
		}
		for _, r := range page.Records {
			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "created_at")
			delete(m, "updated_at")
			if h, ok := m["history"].([]any); ok {
				for _, tr := range h {
					delete(tr.(map[string]any), "at") // a timestamp
				}
			}
			m["type"] = k
			out = append(out, m)
		}
	}
	return out
}

// lineDiff lists the lines that differ between want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// Known bugs: each test shows one and is skipped until it is fixed.

func TestParseCSVErrorInFirstCell(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"type,name\na\"b,组\nteam,组\n", "2:! 3:team"},         // bare quote
		{"type,name\n\"a\"b,组\nteam,组\n", "2:! 3:team"},       // text after the closing quote
		{"type,name\nteam,组\n\"unterminated\n", "2:team 3:!"}, // unterminated quote
	} {
		rows, bad, err := importer.Parse(strings.NewReader(c.in), importer.CSV, "")
		if got := summary(rows, bad); err != nil || got != c.want {
			t.Errorf("Parse(csv, %q) = %q, %s; want %q, nil", c.in, got, describe(err), c.want)
		}
	}
}

func TestParseJSONLTooLongLineNumber(t *testing.T) {
	in := "\n" + team1 + "\n\n" + strings.Repeat(" ", importer.MaxLineBytes+1) + "\n"
	_, _, err := importer.Parse(strings.NewReader(in), importer.JSONL, "")
	if msg := medmatch.ErrorMessage(err); medmatch.ErrorCode(err) != medmatch.ETOOLARGE || !strings.HasPrefix(msg, "line 4:") {
		t.Errorf("Parse(jsonl with line 4 too long) = %s; want %s starting \"line 4:\"", describe(err), medmatch.ETOOLARGE)
	}
}

func TestParseCSVNotANumber(t *testing.T) {
	for _, cell := range []string{"NaN", "Inf", "-inf", "infinity"} {
		in := "type,title,price_min\nachievement,t," + cell + "\n"
		rows, bad, err := importer.Parse(strings.NewReader(in), importer.CSV, "")
		if got, want := summary(rows, bad), "2:achievement!price.min"; err != nil || got != want {
			t.Errorf("Parse(csv price_min %q) = %q, %s; want %q", cell, got, describe(err), want)
		}
	}
}

func TestParseCSVDuplicateColumnSpellings(t *testing.T) {
	in := "type,title,price_min,price.min\nachievement,t,50,80\n"
	rows, bad, err := importer.Parse(strings.NewReader(in), importer.CSV, "")
	if medmatch.ErrorCode(err) != medmatch.EINVALID || errField(err) != "header" {
		t.Errorf("Parse(csv with price_min and price.min) = %q, %s; want %s naming header", summary(rows, bad), describe(err), medmatch.EINVALID)
	}
}

func TestImportRejectedRowHasNoGeneratedID(t *testing.T) {
	noID := `{"type":"achievement","title":"t","description":"d","institution":"东岚骨科医院","specialty":"骨科","fields":["医疗器械"],"maturity":"mature"}`
	for _, opt := range []importer.Options{{}, {SkipInvalid: true}, {DryRun: true}} {
		s := openStore(t)
		rep, err := importer.Import(context.Background(), s, organizer, "a.jsonl", strings.NewReader(noID), importer.JSONL, opt)
		if err != nil || len(rep.Rows) != 1 || rep.Rows[0].Action != medmatch.ActionReject || rep.Rows[0].ID != "" {
			t.Errorf("Import(%+v, a rejected row without id) = %+v, %s; want one reject with no id", opt, rep.Rows, describe(err))
		}
	}
}
