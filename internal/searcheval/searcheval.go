// Package searcheval measures ranking quality on query–title relevance sets
// in the KUAKE-QTR format (a JSON array of {"query", "title", "label"} with
// labels "0"–"3"): every unique title is indexed, every query with at least
// one title labelled ≥ 2 is run, and nDCG@10 (gain 2^label − 1, unjudged
// titles 0) and MRR@10 (first title labelled ≥ 2) are averaged. It compares
// our analysis (the real store, mapping and query builder, searching
// achievement titles) with bleve's cjk and standard analyzers under the
// same BM25 scoring.
package searcheval

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/indexer"
)

// Set is a relevance set: titles and judged queries.
type Set struct {
	Titles  []string
	Queries []Query // only those with a title labelled ≥ 2
	Pairs   int     // judged pairs read
	All     int     // distinct queries read
}

// Query is one query and its judged titles (index in Titles → label).
type Query struct {
	Text   string
	Labels map[int]int
}

// Read parses a set in the KUAKE-QTR format.
func Read(r io.Reader) (*Set, error) {
	var pairs []struct{ Query, Title, Label string }
	if err := json.NewDecoder(r).Decode(&pairs); err != nil {
		return nil, fmt.Errorf("not a JSON array of {query, title, label}: %w", err)
	}
	s := &Set{Pairs: len(pairs)}
	titleIdx := map[string]int{}
	byQuery := map[string]map[int]int{}
	var order []string
	for i, p := range pairs {
		l, err := strconv.Atoi(p.Label)
		if err != nil || l < 0 || l > 3 {
			return nil, fmt.Errorf("pair %d: label %q is not 0-3", i+1, p.Label)
		}
		t, ok := titleIdx[p.Title]
		if !ok {
			t = len(s.Titles)
			titleIdx[p.Title] = t
			s.Titles = append(s.Titles, p.Title)
		}
		if byQuery[p.Query] == nil {
			byQuery[p.Query] = map[int]int{}
			order = append(order, p.Query)
		}
		byQuery[p.Query][t] = l
	}
	s.All = len(order)
	for _, q := range order {
		for _, l := range byQuery[q] {
			if l >= 2 {
				s.Queries = append(s.Queries, Query{Text: q, Labels: byQuery[q]})
				break
			}
		}
	}
	return s, nil
}

// Result is one analyzer's scores.
type Result struct {
	Analyzer string
	NDCG     float64
	MRR      float64
	Queries  int
	NoHits   int
}

// Scores returns nDCG@10 and reciprocal rank@10 of a ranking.
func Scores(ranked []int, labels map[int]int) (float64, float64) {
	dcg, rr := 0.0, 0.0
	for i, id := range ranked {
		if i >= 10 {
			break
		}
		l := labels[id]
		dcg += (math.Pow(2, float64(l)) - 1) / math.Log2(float64(i)+2)
		if rr == 0 && l >= 2 {
			rr = 1 / float64(i+1)
		}
	}
	var ideal []int
	for _, l := range labels {
		ideal = append(ideal, l)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(ideal)))
	idcg := 0.0
	for i, l := range ideal {
		if i >= 10 {
			break
		}
		idcg += (math.Pow(2, float64(l)) - 1) / math.Log2(float64(i)+2)
	}
	if idcg == 0 {
		return 0, rr
	}
	return dcg / idcg, rr
}

func average(name string, qs []Query, rank func(q string) ([]int, error)) (Result, error) {
	r := Result{Analyzer: name, Queries: len(qs)}
	for _, q := range qs {
		ids, err := rank(q.Text)
		if err != nil {
			return r, fmt.Errorf("%s: query %q: %w", name, q.Text, err)
		}
		if len(ids) == 0 {
			r.NoHits++
		}
		n, rr := Scores(ids, q.Labels)
		r.NDCG += n
		r.MRR += rr
	}
	if len(qs) > 0 {
		r.NDCG /= float64(len(qs))
		r.MRR /= float64(len(qs))
	}
	return r, nil
}

// Ours ranks with our analysis: every title becomes a published achievement
// in a temporary store and index, and queries search achievement titles
// (words and characters), taking the query as plain words.
func Ours(ctx context.Context, s *Set, req indexer.Request) (Result, error) {
	dir, err := os.MkdirTemp("", "medmatch-eval-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	recs := make([]medmatch.Record, len(s.Titles))
	for i, t := range s.Titles {
		// Description is required; the search below reads titles only.
		recs[i] = &medmatch.Achievement{Meta: medmatch.Meta{ID: "t" + strconv.Itoa(i)}, Title: t, Description: t,
			Institution: "评测集", Specialty: "儿科", Fields: []string{"数字医疗"}, Maturity: medmatch.MaturityIdea}
	}
	if res, err := st.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		return Result{}, err
	} else if res.Rejected > 0 {
		for _, row := range res.Rows {
			if row.Error != nil {
				return Result{}, fmt.Errorf("title %q rejected: %v", s.Titles[row.Index], row.Error)
			}
		}
	}
	ix, err := indexer.Open(ctx, indexer.Dir(dir), st, indexer.Options{})
	if err != nil {
		return Result{}, err
	}
	defer ix.Close()
	req.Fields, req.Plain, req.NoHighlight, req.Limit = []string{"title"}, true, true, 10
	return average("ours", s.Queries, func(q string) ([]int, error) {
		r := req
		r.Query = q
		if len([]rune(q)) > indexer.MaxQueryChars {
			r.Query = string([]rune(q)[:indexer.MaxQueryChars])
		}
		res, err := ix.Search(ctx, medmatch.System, r)
		if err != nil {
			return nil, err
		}
		ids := make([]int, len(res.Hits))
		for i, h := range res.Hits {
			ids[i], _ = strconv.Atoi(h.ID[1:])
		}
		return ids, nil
	})
}

// Baseline ranks with one of bleve's analyzers (indexer.BaselineCJK,
// indexer.BaselineStandard).
func Baseline(ctx context.Context, s *Set, analyzer string) (Result, error) {
	b, err := indexer.NewBaseline(analyzer, s.Titles)
	if err != nil {
		return Result{}, err
	}
	defer b.Close()
	return average(analyzer, s.Queries, func(q string) ([]int, error) { return b.Rank(ctx, q, 10) })
}

// All runs ours and both baselines.
func All(ctx context.Context, s *Set) ([]Result, error) {
	ours, err := Ours(ctx, s, indexer.Request{})
	if err != nil {
		return nil, err
	}
	out := []Result{ours}
	for _, a := range []string{indexer.BaselineCJK, indexer.BaselineStandard} {
		r, err := Baseline(ctx, s, a)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
