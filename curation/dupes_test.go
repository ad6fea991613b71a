package curation_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/longbridgeapp/opencc"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/curation"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
)

var update = flag.Bool("update", false, "rewrite fixtures/dupes from the demo catalogue")

const dupesDir = "../fixtures/dupes"

// Submission is a record of the duplicate test set: a perturbed copy of a
// demo achievement (DuplicateOf names it).
type Submission struct {
	ID           string `json:"id"`
	Perturbation string `json:"perturbation"`
	DuplicateOf  string `json:"duplicate_of"`
	Title        string `json:"title"`
	Description  string `json:"description"`
}

// NegativePair is two demo achievements of the same institution and
// specialty that are different inventions.
type NegativePair struct {
	A string `json:"a"`
	B string `json:"b"`
}

var perturbations = []string{"reorder", "synonyms", "trim", "numbers", "traditional"}

var sentenceEnd = regexp.MustCompile(`[^。！？；]+[。！？；]?`)

func sentences(s string) []string { return sentenceEnd.FindAllString(s, -1) }

// writeTestSet makes fixtures/dupes from the demo achievements: 30 copies
// per perturbation, each of a different original, and every pair of
// different achievements sharing institution and specialty as hard
// negatives.
func writeTestSet(t *testing.T, achs []*medmatch.Achievement) {
	rng := rand.New(rand.NewPCG(7, 11))
	s2t, err := opencc.New("s2t")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := dict.Synonyms()
	if err != nil {
		t.Fatal(err)
	}
	order := rng.Perm(len(achs))
	var subs []Submission
	digits := regexp.MustCompile(`\d+(\.\d+)?`)
	for n, i := range order[:30*len(perturbations)] {
		a := achs[i]
		p := perturbations[n%len(perturbations)]
		title, desc := a.Title, a.Description
		switch p {
		case "reorder":
			ss := sentences(desc)
			rng.Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
			desc = strings.Join(ss, "")
		case "synonyms":
			swaps := 0
			for _, g := range groups {
				for _, w := range g[1:] {
					if swaps < 6 && strings.Contains(desc, g[0]) && len([]rune(g[0])) > 1 {
						desc = strings.Replace(desc, g[0], w, 1)
						swaps++
						break
					}
				}
			}
			title = strings.Replace(title, "系统", "装置", 1)
		case "trim":
			ss := sentences(desc)
			desc = strings.Join(ss[:max(1, len(ss)*6/10)], "")
		case "numbers":
			desc = digits.ReplaceAllStringFunc(desc, func(string) string { return strconv.Itoa(2 + rng.IntN(500)) })
			title = digits.ReplaceAllStringFunc(title, func(string) string { return strconv.Itoa(2 + rng.IntN(50)) })
		case "traditional":
			if title, err = s2t.Convert(title); err != nil {
				t.Fatal(err)
			}
			if desc, err = s2t.Convert(desc); err != nil {
				t.Fatal(err)
			}
		}
		subs = append(subs, Submission{ID: fmt.Sprintf("dup-%03d", n+1), Perturbation: p, DuplicateOf: a.ID, Title: title, Description: desc})
	}
	var negs []NegativePair
	for i, a := range achs {
		for _, b := range achs[i+1:] {
			if a.Institution == b.Institution && a.Specialty == b.Specialty {
				negs = append(negs, NegativePair{A: a.ID, B: b.ID})
			}
		}
	}
	if err := os.MkdirAll(dupesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeJSONL(t, filepath.Join(dupesDir, "submissions.jsonl"), subs)
	writeJSONL(t, filepath.Join(dupesDir, "negatives.jsonl"), negs)
}

func writeJSONL[T any](t *testing.T, path string, items []T) {
	var b strings.Builder
	for _, it := range items {
		line, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSONL[T any](t *testing.T, path string) []T {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var it T
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, it)
	}
	return out
}

// TestDuplicatesOnTestSet measures the detector on fixtures/dupes: every
// perturbed copy should find its original (recall) and nothing else, and
// no hard-negative pair may be flagged (precision over every flag).
// Targets: precision ≥ 0.95, recall ≥ 0.90, and recall ≥ 0.8 for each
// perturbation.
func TestDuplicatesOnTestSet(t *testing.T) {
	recs, err := fixtures.Records()
	if err != nil {
		t.Fatal(err)
	}
	var achs []*medmatch.Achievement
	byID := map[string]*medmatch.Achievement{}
	for _, r := range recs {
		if a, ok := r.(*medmatch.Achievement); ok {
			achs = append(achs, a)
			byID[a.ID] = a
		}
	}
	sort.Slice(achs, func(i, j int) bool { return achs[i].ID < achs[j].ID })
	if *update {
		writeTestSet(t, achs)
	}
	subs := readJSONL[Submission](t, filepath.Join(dupesDir, "submissions.jsonl"))
	negs := readJSONL[NegativePair](t, filepath.Join(dupesDir, "negatives.jsonl"))
	if len(subs) < 100 || len(negs) < 50 {
		t.Fatalf("test set: %d submissions, %d negative pairs", len(subs), len(negs))
	}
	ix := curation.NewDupIndex()
	docs := map[string]*curation.Doc{}
	for _, a := range achs {
		d, _ := curation.NewDoc(a)
		docs[a.ID] = d
		ix.Add(d)
	}
	tp, fp, fn := 0, 0, 0
	found, total := map[string]int{}, map[string]int{}
	for _, s := range subs {
		orig := byID[s.DuplicateOf]
		copyRec := *orig
		copyRec.Meta = medmatch.Meta{ID: s.ID}
		copyRec.Title, copyRec.Description, copyRec.Summary = s.Title, s.Description, ""
		d, _ := curation.NewDoc(&copyRec)
		hit := false
		for _, m := range ix.Similar(d) {
			if m.Doc.Ref.ID == s.DuplicateOf {
				hit = true
				tp++
			} else {
				fp++
				t.Logf("false positive: %s (%s of %s) ~ %s %.2f", s.ID, s.Perturbation, s.DuplicateOf, m.Doc.Ref.ID, m.Overlap)
			}
		}
		total[s.Perturbation]++
		if hit {
			found[s.Perturbation]++
		} else {
			fn++
			t.Logf("missed: %s (%s of %s)", s.ID, s.Perturbation, s.DuplicateOf)
		}
	}
	negFlags := 0
	for _, n := range negs {
		a, b := docs[n.A], docs[n.B]
		for _, m := range ix.Similar(a) {
			if m.Doc.Ref.ID == b.Ref.ID {
				negFlags++
				t.Logf("hard negative flagged: %s ~ %s %.2f", n.A, n.B, m.Overlap)
			}
		}
	}
	fp += negFlags
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, tp+fn))
	var per []string
	for _, p := range perturbations {
		r := float64(found[p]) / float64(max(1, total[p]))
		per = append(per, fmt.Sprintf("%s %.2f", p, r))
		if r < 0.8 {
			t.Errorf("recall on %s copies %.2f; want ≥ 0.8", p, r)
		}
	}
	t.Logf("precision %.3f recall %.3f (%d copies, %d hard-negative pairs; %d true, %d false flags, %d missed); recall by perturbation: %s",
		precision, recall, len(subs), len(negs), tp, fp, fn, strings.Join(per, ", "))
	if precision < 0.95 || recall < 0.90 {
		t.Errorf("precision %.3f, recall %.3f; want ≥ 0.95 and ≥ 0.90", precision, recall)
	}
}
