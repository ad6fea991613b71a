// Package corpus reads the CSL abstracts (../shared/data/csl, Apache-2.0;
// see ../shared/data/README.md) at benchmark time and derives catalogue
// records and queries from them. Nothing of the corpus is copied into the
// repository; benchmarks skip when it is absent.
package corpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/medmatch/medmatch"
)

// Paper is one CSL paper.
type Paper struct {
	Title    string   `json:"title"`
	Abstract string   `json:"abstract"`
	Keywords []string `json:"keywords"`
}

// Path is MEDMATCH_CSL when set, else def.
func Path(def string) string {
	if p := os.Getenv("MEDMATCH_CSL"); p != "" {
		return p
	}
	return def
}

// Read returns the papers of path that have a title and an abstract. A
// missing file is an error satisfying errors.Is(err, fs.ErrNotExist).
func Read(path string) ([]Paper, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Paper
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		var p Paper
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if p.Title != "" && p.Abstract != "" {
			out = append(out, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("%s has %d papers with a title and an abstract; want at least 2", path, len(out))
	}
	return out, nil
}

// Fixed valid values cycled over the derived records; the institutions are
// the fictional ones of the demo catalogue.
var (
	institutions = []string{"东岚医科大学附属第一医院", "临溪医学院附属第二医院", "青岑大学附属瑞和医院",
		"云岫理工大学生物医学工程学院", "华屿生物材料研究所", "砚川检验医学中心", "南澄中医药大学附属医院", "澜城儿童医院"}
	specialties = []string{"心血管", "神经", "骨科", "肿瘤", "医学影像", "检验", "康复", "眼科", "口腔", "中医",
		"呼吸", "内分泌", "妇产", "儿科", "急诊重症", "消化", "泌尿", "皮肤", "精神心理", "护理"}
	fields = []string{"医疗器械", "体外诊断", "创新药", "数字医疗", "康复辅具", "中医药", "生物材料"}
)

// DescBytes is the size descriptions are padded to.
const DescBytes = 1024

// description is paper p's abstract padded to about DescBytes with the
// abstracts after it (shifted by cycle, the pass over the corpus, so the
// n-th pass gives other descriptions than the first), cut at a sentence end
// or a character boundary; the paper's own abstract is never cut.
func description(papers []Paper, p, cycle int) string {
	var b strings.Builder
	b.WriteString(papers[p].Abstract)
	own := b.Len()
	for k := 1; b.Len() < DescBytes; k++ {
		b.WriteByte('\n')
		b.WriteString(papers[(p+cycle+k)%len(papers)].Abstract)
	}
	s := b.String()
	if own >= DescBytes || len(s) <= DescBytes {
		return s
	}
	cut := DescBytes
	for cut > own && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndex(s[:cut], "。"); i >= own && i+len("。") >= DescBytes*3/4 {
		cut = i + len("。")
	}
	return s[:cut]
}

// Achievements derives n valid, synthetic achievements of about 1 KB: title
// = paper title, description = the padded abstract. With n > len(papers)
// titles repeat (once per pass), descriptions mostly do not. It also
// returns the bytes of text (title, description, institution) they hold.
func Achievements(papers []Paper, n int) ([]*medmatch.Achievement, int64) {
	out := make([]*medmatch.Achievement, n)
	var size int64
	for i := range n {
		p, cycle := i%len(papers), i/len(papers)
		a := &medmatch.Achievement{
			Meta:        medmatch.Meta{ID: fmt.Sprintf("ach-csl-%06d", i), Synthetic: true},
			Title:       papers[p].Title,
			Description: description(papers, p, cycle),
			Institution: institutions[i%len(institutions)],
			Specialty:   specialties[i%len(specialties)],
			Fields:      []string{fields[i%len(fields)]},
			Maturity:    medmatch.Maturities[i%len(medmatch.Maturities)],
		}
		size += int64(len(a.Title) + len(a.Description) + len(a.Institution))
		out[i] = a
	}
	return out, size
}

// Queries are the corpus keywords of at most maxChars characters: the first
// of every paper, then the second of every paper, and so on, without repeats.
func Queries(papers []Paper, maxChars int) []string {
	seen := make(map[string]bool)
	var out []string
	for k := 0; ; k++ {
		more := false
		for _, p := range papers {
			if k >= len(p.Keywords) {
				continue
			}
			more = true
			q := strings.TrimSpace(p.Keywords[k])
			if q == "" || seen[q] || utf8.RuneCountInString(q) > maxChars {
				continue
			}
			seen[q] = true
			out = append(out, q)
		}
		if !more {
			return out
		}
	}
}

// Catalogue derives n achievements for load tests by recombining the
// corpus's sentences: each record takes a paper's title, then sentences
// drawn from the whole corpus (deterministically, by a simple generator
// seeded with the record's number) until its description reaches about
// DescBytes, and metadata cycled from meta (fixture achievements: their
// specialty, fields, maturity, institution, region, IP, transfer modes and
// price), so that facets and filters see realistic spreads.
func Catalogue(papers []Paper, meta []*medmatch.Achievement, n int) ([]*medmatch.Achievement, int64) {
	g := NewGenerator(papers, meta)
	out := make([]*medmatch.Achievement, n)
	var size int64
	for i := range n {
		a := g.Achievement(i)
		size += int64(len(a.Title) + len(a.Description) + len(a.Institution))
		out[i] = a
	}
	return out, size
}

// Generator makes the records of Catalogue one at a time, for catalogues
// too large to hold at once.
type Generator struct {
	papers    []Paper
	meta      []*medmatch.Achievement
	sentences []string
}

// NewGenerator splits the corpus into sentences once.
func NewGenerator(papers []Paper, meta []*medmatch.Achievement) *Generator {
	g := &Generator{papers: papers, meta: meta}
	for _, p := range papers {
		for _, s := range strings.SplitAfter(p.Abstract, "。") {
			if s = strings.TrimSpace(s); utf8.RuneCountInString(s) >= 8 {
				g.sentences = append(g.sentences, s)
			}
		}
	}
	return g
}

// Achievement returns record i of the catalogue (the same for the same i).
func (g *Generator) Achievement(i int) *medmatch.Achievement {
	x := uint64(i)*0x9E3779B97F4A7C15 + 1
	next := func() int {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return int(x % uint64(len(g.sentences)))
	}
	var b strings.Builder
	for b.Len() < DescBytes {
		b.WriteString(g.sentences[next()])
	}
	m := g.meta[i%len(g.meta)]
	return &medmatch.Achievement{
		Meta:          medmatch.Meta{ID: fmt.Sprintf("ach-syn-%07d", i), Synthetic: true},
		Title:         g.papers[next()%len(g.papers)].Title,
		Description:   b.String(),
		Institution:   m.Institution,
		Specialty:     m.Specialty,
		Fields:        m.Fields,
		Maturity:      m.Maturity,
		IP:            m.IP,
		TransferModes: m.TransferModes,
		Price:         m.Price,
		Region:        m.Region,
		Status:        medmatch.StatusPublished,
	}
}
