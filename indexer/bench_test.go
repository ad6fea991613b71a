package indexer_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/indexer"
)

// The corpus benchmarks read the CSL abstracts (../shared/data/README.md,
// Apache-2.0) at run time; nothing of the corpus is copied into the
// repository. MEDMATCH_CSL overrides the path. cmd/medmatch/bench.go derives
// its records the same way: keep the two in step.

func benchCSLPath() string {
	if p := os.Getenv("MEDMATCH_CSL"); p != "" {
		return p
	}
	return "../../shared/data/csl/csl.jsonl"
}

type cslPaper struct {
	Title    string   `json:"title"`
	Abstract string   `json:"abstract"`
	Keywords []string `json:"keywords"`
}

// loadCSL reads the corpus, or skips b when the file is absent.
func loadCSL(b *testing.B) []cslPaper {
	b.Helper()
	path := benchCSLPath()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		b.Skipf("CSL corpus not found at %s (set MEDMATCH_CSL to its csl.jsonl; see ../shared/data/README.md)", path)
	} else if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []cslPaper
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		var p cslPaper
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			b.Fatalf("%s:%d: %v", path, n, err)
		}
		if p.Title != "" && p.Abstract != "" {
			out = append(out, p)
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	if len(out) < 2 {
		b.Fatalf("%s: %d usable papers", path, len(out))
	}
	return out
}

// Fixed valid values, cycled over the derived records. The institutions are
// the fictional ones of the demo catalogue.
var (
	benchInstitutions = []string{"东岚医科大学附属第一医院", "临溪医学院附属第二医院", "青岑大学附属瑞和医院",
		"云岫理工大学生物医学工程学院", "华屿生物材料研究所", "砚川检验医学中心", "南澄中医药大学附属医院", "澜城儿童医院"}
	benchSpecialties = []string{"心血管", "神经", "骨科", "肿瘤", "医学影像", "检验", "康复", "眼科", "口腔", "中医",
		"呼吸", "内分泌", "妇产", "儿科", "急诊重症", "消化", "泌尿", "皮肤", "精神心理", "护理"}
	benchFields = []string{"医疗器械", "体外诊断", "创新药", "数字医疗", "康复辅具", "中医药", "生物材料"}
)

// descBytes is the size the description is padded to.
const descBytes = 1024

// benchDescription is paper p's abstract padded to about descBytes with the
// abstracts that follow it; the cycle shifts which paper comes next, so the
// n-th pass over the corpus gives other descriptions than the first. The
// padding is cut at a sentence end (or a character boundary); the paper's
// own abstract is never cut.
func benchDescription(papers []cslPaper, p, cycle int) string {
	var b strings.Builder
	b.WriteString(papers[p].Abstract)
	own := b.Len()
	for k := 1; b.Len() < descBytes; k++ {
		b.WriteByte('\n')
		b.WriteString(papers[(p+cycle+k)%len(papers)].Abstract)
	}
	s := b.String()
	if own >= descBytes || len(s) <= descBytes {
		return s
	}
	cut := descBytes
	for cut > own && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndex(s[:cut], "。"); i >= own && i+len("。") >= descBytes*3/4 {
		cut = i + len("。")
	}
	return s[:cut]
}

// benchRecords derives n published achievements from the corpus: title =
// paper title, description = benchDescription. With n > len(papers) titles
// repeat (each once per pass), descriptions mostly do not.
func benchRecords(papers []cslPaper, n int) ([]medmatch.Record, int64) {
	recs := make([]medmatch.Record, n)
	var size int64
	for i := range n {
		p, cycle := i%len(papers), i/len(papers)
		a := &medmatch.Achievement{
			Meta:        medmatch.Meta{ID: fmt.Sprintf("ach-csl-%06d", i), Synthetic: true},
			Title:       papers[p].Title,
			Description: benchDescription(papers, p, cycle),
			Institution: benchInstitutions[i%len(benchInstitutions)],
			Specialty:   benchSpecialties[i%len(benchSpecialties)],
			Fields:      []string{benchFields[i%len(benchFields)]},
			Maturity:    medmatch.Maturities[i%len(medmatch.Maturities)],
		}
		size += int64(len(a.Title) + len(a.Description) + len(a.Institution))
		recs[i] = a
	}
	return recs, size
}

// benchQueries are the corpus keywords, the first of every paper, then the
// second of every paper, and so on, without repeats.
func benchQueries(papers []cslPaper) []string {
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
			if q == "" || seen[q] || utf8.RuneCountInString(q) > indexer.MaxQueryChars {
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

// benchStore returns a bolt store in a temp dir holding n derived records,
// and the bytes of text they hold.
func benchStore(b *testing.B, papers []cslPaper, n int) (*bolt.Store, string, int64) {
	b.Helper()
	dir := b.TempDir()
	s, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	recs, size := benchRecords(papers, n)
	res, err := s.Import(context.Background(), medmatch.System, recs, medmatch.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if res.Created != n || res.Rejected != 0 {
		b.Fatalf("import: created %d, rejected %d of %d", res.Created, res.Rejected, n)
	}
	return s, dir, size
}

func benchOpenIndex(b *testing.B, dir string, s *bolt.Store) *indexer.Index {
	b.Helper()
	ix, err := indexer.Open(context.Background(), indexer.Dir(dir), s, indexer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	return ix
}

// BenchmarkIndex times Index.Rebuild (the whole store into a new index,
// batches of BatchSize, then the swap) over 2k and 20k derived ~1 KB
// achievements. The store and the first index are built untimed.
func BenchmarkIndex(b *testing.B) {
	papers := loadCSL(b)
	if _, err := dict.Default(); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			s, dir, size := benchStore(b, papers, n)
			ix := benchOpenIndex(b, dir, s)
			ctx := context.Background()
			b.SetBytes(size)
			for b.Loop() {
				if err := ix.Rebuild(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if got, err := ix.DocCount(); err != nil || got != uint64(n) {
				b.Fatalf("DocCount = %d, %v; want %d", got, err, n)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkSearch runs one query per op over a 20k-doc index, as an
// anonymous viewer with the default limit (10) and highlights, cycling
// through the CSL keywords. hits/op is the mean number of matching records
// (Result.Total).
func BenchmarkSearch(b *testing.B) {
	papers := loadCSL(b)
	queries := benchQueries(papers)
	s, dir, _ := benchStore(b, papers, 20000)
	ix := benchOpenIndex(b, dir, s)
	ctx := context.Background()
	var hits, returned uint64
	i := 0
	for b.Loop() {
		res, err := ix.Search(ctx, medmatch.Viewer{}, indexer.Request{Query: queries[i%len(queries)]})
		if err != nil {
			b.Fatal(err)
		}
		hits += res.Total
		returned += uint64(len(res.Hits))
		i++
	}
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
	b.ReportMetric(float64(returned)/float64(b.N), "returned/op")
}
