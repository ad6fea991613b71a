// Package matcheval measures the matcher on graded judgments: it loads a
// catalogue into a temporary store and index, fits the semantic model,
// learns weights on the training queries and reports nDCG@10, MRR@10, P@5
// and the pairwise misordering rate of every model on the test queries.
package matcheval

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/importer"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
)

// Env is a catalogue loaded into a temporary data dir, with a fitted
// semantic model.
type Env struct {
	dir     string
	Store   *bolt.Store
	Index   *indexer.Index
	Matcher *matcher.Matcher
	byExt   map[string]medmatch.Ref
	byID    map[string]medmatch.Ref
}

// Open loads recs into a temporary store and index and fits the semantic
// model on them (k dimensions; 0 for the default).
func Open(ctx context.Context, recs []medmatch.Record, k int) (*Env, error) {
	dir, err := os.MkdirTemp("", "medmatch-match-eval-")
	if err != nil {
		return nil, err
	}
	e := &Env{dir: dir, byExt: map[string]medmatch.Ref{}, byID: map[string]medmatch.Ref{}}
	if e.Store, err = bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()}); err != nil {
		e.Close()
		return nil, err
	}
	res, err := e.Store.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{})
	if err != nil {
		e.Close()
		return nil, err
	}
	_ = res
	for _, r := range recs {
		ref := medmatch.Ref{Kind: r.Kind(), ID: r.Base().ID}
		if x := r.Base().ExternalID; x != "" {
			e.byExt[x] = ref
		}
		e.byID[ref.ID] = ref
	}
	if e.Index, err = indexer.Open(ctx, indexer.Dir(dir), e.Store, indexer.Options{}); err != nil {
		e.Close()
		return nil, err
	}
	if e.Matcher, err = matcher.New(ctx, e.Store, e.Index, matcher.Options{}); err != nil {
		e.Close()
		return nil, err
	}
	model, err := e.Matcher.FitModel(ctx, matcher.FitOptions{K: k, Seed: 1})
	if err != nil {
		e.Close()
		return nil, err
	}
	if _, err := e.Matcher.SaveModel(ctx, medmatch.System, model, "evaluation"); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Close removes the temporary data dir.
func (e *Env) Close() error {
	if e.Index != nil {
		e.Index.Close()
	}
	if e.Store != nil {
		e.Store.Close()
	}
	return os.RemoveAll(e.dir)
}

// ReadCatalogue reads a folder of achievements.jsonl, enterprises.jsonl,
// demands.jsonl and optionally needs.jsonl and teams.jsonl in the API's
// JSON shape.
func ReadCatalogue(dir string) ([]medmatch.Record, error) {
	var out []medmatch.Record
	for _, f := range []struct {
		name     string
		kind     medmatch.Kind
		optional bool
	}{{"enterprises.jsonl", medmatch.KindEnterprise, false}, {"teams.jsonl", medmatch.KindTeam, true},
		{"achievements.jsonl", medmatch.KindAchievement, false}, {"needs.jsonl", medmatch.KindNeed, true},
		{"demands.jsonl", medmatch.KindDemand, false}} {
		path := filepath.Join(dir, f.name)
		in, err := os.Open(path)
		if os.IsNotExist(err) && f.optional {
			continue
		} else if err != nil {
			return nil, err
		}
		rows, bad, err := importer.Parse(in, importer.JSONL, f.kind)
		in.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(bad) > 0 {
			return nil, fmt.Errorf("%s:%d: %v", path, bad[0].Line, bad[0].Error)
		}
		for _, r := range rows {
			out = append(out, r.Record)
		}
	}
	return out, nil
}

// RawLabel is one line of a labels file (see matcher.ReadLabels).
type RawLabel = matcher.RawLabel

// ReadLabels reads a labels file; see matcher.ReadLabels.
func ReadLabels(r io.Reader) ([]RawLabel, error) { return matcher.ReadLabels(r) }

// Split is the labels of one side of the split, resolved to records.
type Split struct {
	Train, Test []matcher.Label
}

// Resolve maps the labels' names to records of this catalogue and splits
// them. A name that is no record's external_id or id is an error.
func (e *Env) Resolve(raw []RawLabel) (*Split, error) {
	find := func(name string) (medmatch.Ref, bool) {
		if r, ok := e.byExt[name]; ok {
			return r, true
		}
		r, ok := e.byID[name]
		return r, ok
	}
	out := &Split{}
	split := map[medmatch.Ref]string{}
	for i, l := range raw {
		q, ok := find(l.Query)
		if !ok {
			return nil, fmt.Errorf("label %d: query %q is no record of the catalogue", i+1, l.Query)
		}
		if len(matcher.Targets(q.Kind)) == 0 || q.Kind == medmatch.KindTeam || q.Kind == medmatch.KindEnterprise {
			return nil, fmt.Errorf("label %d: query %q is a %s; queries are demands, clinical needs or achievements", i+1, l.Query, q.Kind)
		}
		c, ok := find(l.Candidate)
		if !ok {
			return nil, fmt.Errorf("label %d: candidate %q is no record of the catalogue", i+1, l.Candidate)
		}
		s := l.Split
		if s == "" {
			s = "test"
		}
		if old, ok := split[q]; ok && old != s {
			return nil, fmt.Errorf("label %d: query %q is in both the train and the test split", i+1, l.Query)
		}
		split[q] = s
		lab := matcher.Label{Query: q, Candidate: c, Grade: l.Grade}
		if s == "train" {
			out.Train = append(out.Train, lab)
		} else {
			out.Test = append(out.Test, lab)
		}
	}
	return out, nil
}

// Target is the kind a labelled query's candidates are: the kind of its
// first labelled candidate.
func Target(labels []matcher.Label) func(medmatch.Ref) medmatch.Kind {
	t := map[medmatch.Ref]medmatch.Kind{}
	for _, l := range labels {
		if _, ok := t[l.Query]; !ok {
			t[l.Query] = l.Candidate.Kind
		}
	}
	return func(q medmatch.Ref) medmatch.Kind { return t[q] }
}

// Metrics are the averages over the queries with at least one relevant
// (grade ≥ 2) candidate.
type Metrics struct {
	Model    string  `json:"model"`
	NDCG10   float64 `json:"ndcg@10"`
	MRR10    float64 `json:"mrr@10"`
	P5       float64 `json:"p@5"`
	Misorder float64 `json:"misorder"`
	Queries  int     `json:"queries"`
}

// Line is the one-line form: model=NAME ndcg@10=… mrr@10=… p@5=… misorder=… queries=N.
func (m Metrics) Line() string {
	return fmt.Sprintf("model=%s ndcg@10=%.3f mrr@10=%.3f p@5=%.3f misorder=%.3f queries=%d", m.Model, m.NDCG10, m.MRR10, m.P5, m.Misorder, m.Queries)
}

// Evaluate ranks every test query's pool with the named model (weights
// for ModelLearned must be active in the env's matcher) and scores it.
func (e *Env) Evaluate(ctx context.Context, labels []matcher.Label, model string) (Metrics, error) {
	rankings, err := e.Rankings(ctx, labels, model, 0)
	if err != nil {
		return Metrics{}, err
	}
	return Score(model, rankings, labels), nil
}

// Rankings returns each labelled query's scored pool, best first (the
// first depth, or all when depth is 0).
func (e *Env) Rankings(ctx context.Context, labels []matcher.Label, model string, depth int) (map[medmatch.Ref][]medmatch.Ref, error) {
	target := Target(labels)
	out := map[medmatch.Ref][]medmatch.Ref{}
	for _, l := range labels {
		if _, done := out[l.Query]; done {
			continue
		}
		q := l.Query
		res, err := e.Matcher.Match(ctx, medmatch.System, matcher.Request{Source: &q, Target: target(q), Model: model, Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", q.Kind, q.ID, err)
		}
		var refs []medmatch.Ref
		for _, m := range res.Scored() {
			refs = append(refs, medmatch.Ref{Kind: m.Kind, ID: m.ID})
		}
		if depth > 0 && len(refs) > depth {
			refs = refs[:depth]
		}
		out[q] = refs
	}
	return out, nil
}

// Score computes the metrics of rankings against labels (unjudged = 0).
// Misordering counts, over the judged pairs of a query with different
// grades, the share the ranking puts the wrong way round; a judged
// candidate missing from the ranking is ranked after all of it, and two
// missing ones count as half wrong.
func Score(model string, rankings map[medmatch.Ref][]medmatch.Ref, labels []matcher.Label) Metrics {
	grades := map[medmatch.Ref]map[medmatch.Ref]int{}
	for _, l := range labels {
		if grades[l.Query] == nil {
			grades[l.Query] = map[medmatch.Ref]int{}
		}
		grades[l.Query][l.Candidate] = l.Grade
	}
	m := Metrics{Model: model}
	var pairs, wrong float64
	var queries []medmatch.Ref
	for q := range grades {
		queries = append(queries, q)
	}
	sort.Slice(queries, func(i, j int) bool { return queries[i].ID < queries[j].ID })
	for _, q := range queries {
		g := grades[q]
		relevant := 0
		var all []int
		for _, x := range g {
			all = append(all, x)
			if x >= 2 {
				relevant++
			}
		}
		if relevant == 0 {
			continue
		}
		m.Queries++
		rank := rankings[q]
		var dcg float64
		rr := 0.0
		hits5 := 0
		for i, r := range rank[:min(10, len(rank))] {
			x := g[r]
			dcg += (math.Exp2(float64(x)) - 1) / math.Log2(float64(i+2))
			if x >= 2 && rr == 0 {
				rr = 1 / float64(i+1)
			}
			if x >= 2 && i < 5 {
				hits5++
			}
		}
		sort.Sort(sort.Reverse(sort.IntSlice(all)))
		var idcg float64
		for i, x := range all[:min(10, len(all))] {
			idcg += (math.Exp2(float64(x)) - 1) / math.Log2(float64(i+2))
		}
		m.NDCG10 += dcg / idcg
		m.MRR10 += rr
		m.P5 += float64(hits5) / 5
		pos := map[medmatch.Ref]int{}
		for i, r := range rank {
			pos[r] = i
		}
		var judged []medmatch.Ref
		for r := range g {
			judged = append(judged, r)
		}
		for _, a := range judged {
			for _, b := range judged {
				if g[a] <= g[b] {
					continue
				}
				pairs++
				pa, oka := pos[a]
				pb, okb := pos[b]
				switch {
				case oka && okb:
					if pa > pb {
						wrong++
					}
				case !oka && !okb:
					wrong += 0.5
				case !oka:
					wrong++
				}
			}
		}
	}
	if m.Queries > 0 {
		n := float64(m.Queries)
		m.NDCG10, m.MRR10, m.P5 = m.NDCG10/n, m.MRR10/n, m.P5/n
	}
	if pairs > 0 {
		m.Misorder = wrong / pairs
	}
	return m
}
