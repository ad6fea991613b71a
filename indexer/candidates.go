package indexer

import (
	"context"
	"fmt"
	"sort"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
)

// WeightedTerm is an analysed word with the weight it carries in a
// candidate query.
type WeightedTerm struct {
	Term   string  `json:"term"`
	Weight float64 `json:"weight"`
}

// CandidateRequest asks for the records that best match a set of key
// terms, for the matcher to score.
type CandidateRequest struct {
	Kinds []medmatch.Kind
	Terms []WeightedTerm
	// Filters keep records whose keyword field holds one of the values
	// (OR within a field, AND across fields), e.g. status: published.
	Filters map[string][]string
	// Include names records to return whether or not they match a term
	// (scored by the terms they do match), when they pass the filters.
	Include []medmatch.Ref
	Exclude []medmatch.Ref
	Size    int
	// Within, when set, is a search (query syntax and filters) whose hits
	// bound the candidates — a roadshow's saved search. It filters; it
	// does not score.
	Within *Request
}

// Candidate is one record found for a CandidateRequest with its BM25 score.
type Candidate struct {
	Ref   medmatch.Ref
	Score float64
}

// Candidates runs a candidate query for viewer v: the key terms, each
// weighted, across the title, summary and body word fields with their
// boosts; the filters, the
// viewer's visibility and the kinds inside the same query.
func (ix *Index) Candidates(ctx context.Context, v medmatch.Viewer, req CandidateRequest) ([]Candidate, error) {
	if req.Size <= 0 || len(req.Kinds) == 0 {
		return nil, fmt.Errorf("indexer.Candidates: size and kinds are required")
	}
	ctx, cancel := context.WithTimeout(ctx, MaxWallTime)
	defer cancel()
	// Titles, summaries and bodies: what a record is, not who offers it.
	fields := textFields[:0:0]
	for _, f := range textFields {
		if f.Name != "org" {
			fields = append(fields, f)
		}
	}
	var should []query.Query
	for _, t := range req.Terms {
		q := termAcross(t.Term, fields)
		if bq, ok := q.(query.BoostableQuery); ok {
			bq.SetBoost(t.Weight)
		}
		should = append(should, q)
	}
	if len(req.Include) > 0 {
		ids := make([]string, len(req.Include))
		for i, r := range req.Include {
			ids[i] = docID(r.Kind, r.ID)
		}
		q := bleve.NewDocIDQuery(ids)
		q.SetBoost(1e-6)
		should = append(should, q)
	}
	if len(should) == 0 {
		return nil, nil
	}
	// The terms drive the search; the filters only follow it (bleve advances
	// a filter to each hit instead of walking every record of a kind).
	b := bleve.NewBooleanQuery()
	b.AddMust(bleve.NewDisjunctionQuery(should...))
	ks := make([]string, len(req.Kinds))
	for i, k := range req.Kinds {
		ks[i] = string(k)
	}
	filters := []query.Query{termIn("type", ks...)}
	names := make([]string, 0, len(req.Filters))
	for f := range req.Filters {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if vs := req.Filters[f]; len(vs) > 0 {
			filters = append(filters, termIn(f, vs...))
		}
	}
	if !v.Staff() {
		filters = append(filters, termIn("aud", v.Principals()...))
	}
	if req.Within != nil {
		tax, err := dict.Taxonomy()
		if err != nil {
			return nil, err
		}
		w := *req.Within // validate normalises in place: a copy, filters too
		w.Filters = make(map[string][]string, len(req.Within.Filters))
		for f, vs := range req.Within.Filters {
			w.Filters[f] = append([]string(nil), vs...)
		}
		if err := w.validate(tax); err != nil {
			return nil, err
		}
		ix.mu.RLock()
		c, err := ix.compile(ctx, v, &w, tax)
		ix.mu.RUnlock()
		if err != nil {
			return nil, err
		}
		filters = append(filters, c.query(""))
	}
	if len(filters) == 1 {
		b.AddFilter(filters[0])
	} else {
		b.AddFilter(bleve.NewConjunctionQuery(filters...))
	}
	if len(req.Exclude) > 0 {
		ids := make([]string, len(req.Exclude))
		for i, r := range req.Exclude {
			ids[i] = docID(r.Kind, r.ID)
		}
		b.AddMustNot(bleve.NewDocIDQuery(ids))
	}
	sr := bleve.NewSearchRequestOptions(b, req.Size, 0, false)
	ix.mu.RLock()
	res, err := ix.idx.SearchInContext(ctx, sr)
	ix.mu.RUnlock()
	if err != nil {
		return nil, searchError(ctx, err)
	}
	out := make([]Candidate, 0, len(res.Hits))
	for _, h := range res.Hits {
		if ref, ok := parseDocID(h.ID); ok {
			out = append(out, Candidate{Ref: ref, Score: h.Score})
		}
	}
	return out, nil
}

// DocFreqs returns how many records hold each term (in the word field
// where it is most frequent) and how many records the index holds.
func (ix *Index) DocFreqs(ctx context.Context, terms []string) (map[string]uint64, uint64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.commonTerms(ctx, terms, 1)
	ix.dfMu.Lock()
	defer ix.dfMu.Unlock()
	out := make(map[string]uint64, len(terms))
	for _, t := range terms {
		out[t] = ix.df[t]
	}
	return out, ix.dfN
}

// Analyzer returns the analyzer the index cuts text with.
func (ix *Index) Analyzer() *dict.Analyzer { return ix.an }
