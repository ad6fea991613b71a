package indexer

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	cases := []struct {
		in   string
		want string // items as neg|phrase|field|value|group; "" = error
		err  string // part of the error message
	}{
		{"心脏 支架", "[.|.|.|心脏|0 .|.|.|支架|0]", ""},
		{`"脑深部电刺激" 帕金森`, "[.|P|.|脑深部电刺激|0 .|.|.|帕金森|0]", ""},
		{`“脑 起搏器”`, "[.|P|.|脑 起搏器|0]", ""},
		{"-动物实验 支架", "[-|.|.|动物实验|0 .|.|.|支架|0]", ""},
		{`-"体外 诊断"`, "[-|P|.|体外 诊断|0]", ""},
		{"title:脑起搏器", "[.|.|title|脑起搏器|0]", ""},
		{"Specialty:骨科 maturity:prototype", "[.|.|specialty|骨科|0 .|.|maturity|prototype|0]", ""},
		{"description:\"远程 程控\"", "[.|P|body|远程 程控|0]", ""},
		{"-region:浙江", "[-|.|region|浙江|0]", ""},
		{"支架 OR 球囊 OR 导管 缝合", "[.|.|.|支架|1 .|.|.|球囊|1 .|.|.|导管|1 .|.|.|缝合|0]", ""},
		{"PD-1 ICD-10 3:1 时间：一年", "[.|.|.|PD-1|0 .|.|.|ICD-10|0 .|.|.|3:1|0 .|.|.|时间：一年|0]", ""},
		{"a - b", "[.|.|.|a|0 .|.|.|-|0 .|.|.|b|0]", ""},
		{"　全角空格　分隔", "[.|.|.|全角空格|0 .|.|.|分隔|0]", ""},
		{"", "[]", ""},
		{`"未闭合`, "", "unclosed quote at character 1"},
		{`支架 "`, "", "unclosed quote at character 4"},
		{`""`, "", "empty phrase"},
		{"colour:红", "", `unknown field "colour"`},
		{"title: 支架", "", `field "title" at character 1 has no value`},
		{"OR 支架", "", "OR at character 1 needs a term"},
		{"支架 OR OR 球囊", "", "OR at character 7 needs a term"},
		{"支架 OR", "", "OR at the end"},
	}
	for _, c := range cases {
		p, err := parseQuery(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseQuery(%q) error = %v; want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseQuery(%q) error = %v", c.in, err)
			continue
		}
		var got []string
		for _, it := range p.items {
			f := func(b bool, s string) string {
				if b {
					return s
				}
				return "."
			}
			field := it.field
			if field == "" {
				field = "."
			}
			got = append(got, fmt.Sprintf("%s|%s|%s|%s|%d", f(it.neg, "-"), f(it.phrase, "P"), field, it.value, it.group))
		}
		if g := fmt.Sprint(got); g != c.want && !(g == "[]" && c.want == "[]") {
			t.Errorf("parseQuery(%q) = %s; want %s", c.in, g, c.want)
		}
	}
}

// FuzzParseQuery: the parser never panics, and a query it accepts is
// searchable (no item has an empty value).
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{`"a b" -c title:d e OR f`, `“中文”`, "specialty:骨科", "-", "OR", `a:"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseQuery(s)
		if err != nil {
			return
		}
		for _, it := range p.items {
			if it.value == "" {
				t.Fatalf("parseQuery(%q): empty item %+v", s, it)
			}
		}
	})
}
