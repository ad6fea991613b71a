package dict

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func mustDefault(tb testing.TB) *Analyzer {
	tb.Helper()
	a, err := Default()
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// render writes one line per token: term [start:end] @position, sub-words
// indented, so a golden diff shows exactly what changed.
func render(in string, toks []Token) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", in)
	for _, t := range toks {
		indent := "  "
		if t.Sub {
			indent = "    "
		}
		fmt.Fprintf(&b, "%s%s [%d:%d] @%d\n", indent, t.Term, t.Start, t.End, t.Position)
	}
	return b.String()
}

// TestGoldenSegmentation checks the index-mode analysis of every phrase in
// testdata/phrases.txt against testdata/segment.golden (go test -update
// rewrites it; review the diff before committing).
func TestGoldenSegmentation(t *testing.T) {
	a := mustDefault(t)
	f, err := os.Open("testdata/phrases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got strings.Builder
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		got.WriteString(render(line, a.Tokens([]byte(line), Index)))
		got.WriteString("\n")
	}
	if n < 50 {
		t.Fatalf("%d golden phrases; want at least 50", n)
	}
	const golden = "testdata/segment.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("segmentation differs from %s at line %d:\n-want %q\n+got  %q\n(run go test ./dict -update and review the diff)", golden, i+1, w, g)
			}
		}
	}
}

func TestTokens(t *testing.T) {
	a := mustDefault(t)
	cases := []struct {
		in   string
		mode Mode
		want string // terms joined by |, sub-words in ()
	}{
		{"PD-1抑制剂", Query, "pd-1|抑制剂"},
		{"PD-1抑制剂", Index, "pd-1|(pd1)|抑制剂|(抑制)"},
		{"ＣＴ影像", Query, "ct|影像"},
		{"CAR-T细胞治疗", Query, "car-t|细胞|治疗"},
		{"ICD-10编码", Query, "icd-10|编码"},
		{"3D打印钛合金", Query, "3d打印|钛合金"},
		{"mRNA递送载体", Query, "mrna|递送|载体"},
		{"基于5G的远程超声", Query, "5g|远程|超声"},
		{"心梗的治疗", Query, "心梗|治疗"},
		{"脑起搏器", Query, "脑起搏器"},
		{"血糖≤1.5mmol/L", Query, "血糖|1.5mmol|l"},
		{"", Query, ""},
		{"怀孕期间的PD-1用药，3.0T", Chars, "怀|孕|期|间|的|pd-1|用|药|3.0t"},
		{"，。！", Query, ""},
	}
	for _, c := range cases {
		var parts []string
		for _, tok := range a.Tokens([]byte(c.in), c.mode) {
			if tok.Sub {
				parts = append(parts, "("+string(tok.Term)+")")
			} else {
				parts = append(parts, string(tok.Term))
			}
		}
		if got := strings.Join(parts, "|"); got != c.want {
			t.Errorf("Tokens(%q, %v) = %s; want %s", c.in, c.mode, got, c.want)
		}
	}
}

func TestPositions(t *testing.T) {
	a := mustDefault(t)
	toks := a.Tokens([]byte("心肌梗死的治疗。康复训练"), Index)
	var pos []string
	for _, tok := range toks {
		pos = append(pos, fmt.Sprintf("%s@%d", tok.Term, tok.Position))
	}
	// Sub-words share their word's position; a stop word leaves no gap; a
	// full stop leaves one.
	want := "心肌梗死@1 心肌@1 梗死@1 治疗@2 康复@4 训练@5"
	if got := strings.Join(pos, " "); got != want {
		t.Errorf("positions = %s; want %s", got, want)
	}
}

// checkOffsets asserts the invariant bleve's highlighter relies on: every
// token's offsets lie on rune boundaries of the original input, in order,
// and the term is the normalised form of the text they slice.
func checkOffsets(t *testing.T, a *Analyzer, in []byte, mode Mode) {
	toks := a.Tokens(in, mode)
	lastStart, lastPos := 0, 0
	for _, tok := range toks {
		if tok.Start < 0 || tok.End > len(in) || tok.Start >= tok.End {
			t.Fatalf("%q: token %q has offsets [%d:%d] outside the input", in, tok.Term, tok.Start, tok.End)
		}
		if !boundary(in, tok.Start) || !boundary(in, tok.End) {
			t.Fatalf("%q: token %q offsets [%d:%d] split a character", in, tok.Term, tok.Start, tok.End)
		}
		if !tok.Sub && (tok.Start < lastStart || tok.Position <= lastPos) {
			t.Fatalf("%q: token %q at [%d:%d]@%d is out of order", in, tok.Term, tok.Start, tok.End, tok.Position)
		}
		if !tok.Sub {
			lastStart, lastPos = tok.Start, tok.Position
		}
		norm, _ := normalize(in[tok.Start:tok.End])
		term := tok.Term
		if tok.Sub {
			if v := dehyphen(norm); v != nil && bytes.Contains(v, term) {
				continue
			}
		}
		if !bytes.Contains(norm, term) {
			t.Fatalf("%q: token %q does not come from %q (normalised %q)", in, term, in[tok.Start:tok.End], norm)
		}
	}
}

func boundary(b []byte, i int) bool { return i == len(b) || utf8.RuneStart(b[i]) || !utf8.Valid(b) }

func TestOffsetsGolden(t *testing.T) {
	a := mustDefault(t)
	data, err := os.ReadFile("testdata/phrases.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		for _, m := range []Mode{Index, Query, Chars} {
			checkOffsets(t, a, []byte(line), m)
		}
	}
}

// FuzzOffsets: whatever the input, every token's offsets slice the original
// (un-normalised) text exactly.
func FuzzOffsets(f *testing.F) {
	for _, s := range []string{"PD-1抑制剂", "ＣＴ影像的ＡＩ辅助诊断", "3D打印", "Ⅱ期临床试验", "血糖≤1.5mmol/L", "ﬁ㍿①", "İstanbul", "a\xffb心梗", "COVID-19疫苗 mRNA-1273"} {
		f.Add(s)
	}
	a := mustDefault(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range []Mode{Index, Query, Chars} {
			checkOffsets(t, a, []byte(s), m)
		}
	})
}

func TestTaxonomy(t *testing.T) {
	tax, err := Taxonomy()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"心血管", "神经", "骨科", "肿瘤", "医学影像", "检验", "康复", "眼科", "口腔", "中医", "呼吸", "内分泌", "妇产", "儿科", "急诊重症", "消化", "泌尿", "皮肤", "精神心理", "护理"}
	if got := tax.Specialties.Labels(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("specialties = %v; want %v", got, want)
	}
	fields := []string{"医疗器械", "体外诊断", "创新药", "数字医疗", "康复辅具", "中医药", "生物材料"}
	if got := tax.Fields.Labels(); strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("fields = %v; want %v", got, fields)
	}
	for in, want := range map[string]string{"心内科": "心血管", "神经外科": "神经", "ICU": "急诊重症", "icu": "急诊重症", "骨科": "骨科"} {
		if got, ok := tax.Specialties.Canonical(in); !ok || got != want {
			t.Errorf("Specialties.Canonical(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := tax.Fields.Canonical("IVD"); !ok || got != "体外诊断" {
		t.Errorf("Fields.Canonical(IVD) = %q, %v; want 体外诊断", got, ok)
	}
}

func TestSynonyms(t *testing.T) {
	groups, err := Synonyms()
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) < 200 {
		t.Errorf("%d synonym groups; want at least 200", len(groups))
	}
	find := func(term string) []string {
		for _, g := range groups {
			for _, x := range g {
				if x == term {
					return g
				}
			}
		}
		return nil
	}
	for _, pair := range [][2]string{{"心梗", "心肌梗死"}, {"脑起搏器", "脑深部电刺激"}, {"慢阻肺", "慢性阻塞性肺疾病"}} {
		g := find(pair[0])
		if g == nil || g[0] != pair[1] {
			t.Errorf("synonym group of %s = %v; want preferred term %s", pair[0], g, pair[1])
		}
	}
	// Every synonym is one token at query time, so expansion stays term-for-term.
	a := mustDefault(t)
	split := 0
	for _, g := range groups {
		for _, x := range g {
			if len(a.Terms(x)) != 1 {
				split++
				if split <= 10 {
					t.Logf("synonym %q is cut into %v", x, a.Terms(x))
				}
			}
		}
	}
	if split > 0 {
		t.Errorf("%d synonym terms are not single tokens", split)
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct {
		name string
		opt  Options
	}{{"full", Options{}}, {"medical-only", Options{NoGeneral: true}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Load(c.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
