package indexer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/medmatch/medmatch"
)

// Search limits.
const (
	MaxQueryChars = 256
	DefaultLimit  = 10
	MaxLimit      = 100
	// MaxWallTime bounds one search.
	MaxWallTime = 5 * time.Second
)

// Operators combining the words of a query.
const (
	// OperatorOr: a record matching any word is a hit; BM25 and the
	// coordination factor rank records matching more words first. The
	// default: Chinese queries are cut into several words, and requiring
	// all of them loses good hits (see README, "Default operator").
	OperatorOr = "or"
	// OperatorAnd: every word must occur in some field of the record.
	OperatorAnd = "and"
)

// Request is a search.
type Request struct {
	Query    string          // user text; empty lists everything visible
	Kinds    []medmatch.Kind // record types to search; all when empty
	Operator string          // OperatorOr (default) or OperatorAnd
	Limit    int             // hits per page, 1..MaxLimit; 0 means DefaultLimit
	Cursor   string          // from Result.NextCursor
	// MinShould, with OperatorOr, requires at least this fraction of the
	// query's words (rounded down, at least one). For evaluation only.
	MinShould float64
	// Common overrides CommonCutoff (negative: no common-word handling).
	// For evaluation only.
	Common float64
}

// CommonCutoff: with OperatorOr, a query word found in more than this
// fraction of the records is "common" (医院, 研究, 技术). Common words add
// to the score of records that match a rarer word of the query but do not
// make a record a hit on their own, unless every word of the query is
// common. This keeps a query for 医院内转运 from matching every record of
// every hospital, and keeps it fast.
const CommonCutoff = 0.2

// Hit is one search result.
type Hit struct {
	Kind  medmatch.Kind `json:"type"`
	ID    string        `json:"id"`
	Score float64       `json:"score"`
	Title string        `json:"title"`
	// Highlights maps each record field that matched to fragments of its
	// text, HTML-escaped, with the matched words in <mark> elements.
	Highlights map[string][]string `json:"highlights,omitempty"`
	Record     medmatch.Record     `json:"record"`
}

// Result is one page of hits.
type Result struct {
	Query      string   `json:"query"`
	Terms      []string `json:"terms"` // the words the query was cut into
	Total      uint64   `json:"total"`
	TookMS     float64  `json:"took_ms"`
	Hits       []Hit    `json:"hits"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

type cursor struct {
	Score string `json:"s"`
	ID    string `json:"i"`
	Query string `json:"q"` // the query the cursor belongs to
}

func (r *Request) validate() error {
	if n := utf8.RuneCountInString(r.Query); n > MaxQueryChars {
		return medmatch.Errorf(medmatch.EINVALID, "q", "query is %d characters; the limit is %d", n, MaxQueryChars)
	}
	if !utf8.ValidString(r.Query) {
		return medmatch.Errorf(medmatch.EINVALID, "q", "query is not valid UTF-8")
	}
	if r.Limit == 0 {
		r.Limit = DefaultLimit
	}
	if r.Limit < 1 || r.Limit > MaxLimit {
		return medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and %d", MaxLimit)
	}
	switch r.Operator {
	case "":
		r.Operator = OperatorOr
	case OperatorOr, OperatorAnd:
	default:
		return medmatch.Errorf(medmatch.EINVALID, "operator", "unknown operator %q (want or, and)", r.Operator)
	}
	for _, k := range r.Kinds {
		if !k.Valid() {
			return medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", k)
		}
	}
	return nil
}

// Search runs req for viewer v: only records v may read are hits.
func (ix *Index) Search(ctx context.Context, v medmatch.Viewer, req Request) (*Result, error) {
	start := time.Now()
	if err := req.validate(); err != nil {
		return nil, err
	}
	terms := ix.an.Terms(req.Query)
	res := &Result{Query: req.Query, Terms: terms, Hits: []Hit{}}
	if len(terms) == 0 && req.Query != "" && hasWord(req.Query) {
		// Only stop words: nothing can match.
		res.TookMS = ms(time.Since(start))
		return res, nil
	}

	var text query.Query
	if len(terms) == 0 {
		text = bleve.NewMatchAllQuery()
	} else {
		cutoff := CommonCutoff
		if req.Common != 0 {
			cutoff = req.Common
		}
		var common map[string]bool
		if req.Operator == OperatorOr && cutoff > 0 && len(terms) > 1 {
			common = ix.commonTerms(ctx, terms, cutoff)
		}
		text = textQuery(terms, req.Operator, req.MinShould, common)
	}
	// Visibility and type are filters: they select, they do not score.
	var filters []query.Query
	if !v.Staff() { // staff read every record
		filters = append(filters, anyOf("aud", v.Principals()))
	}
	if len(req.Kinds) > 0 {
		ks := make([]string, len(req.Kinds))
		for i, k := range req.Kinds {
			ks[i] = string(k)
		}
		filters = append(filters, anyOf("type", ks))
	}
	q := bleve.NewBooleanQuery()
	q.AddMust(text)
	switch len(filters) {
	case 0:
	case 1:
		q.AddFilter(filters[0])
	default:
		q.AddFilter(bleve.NewConjunctionQuery(filters...))
	}
	// One hit more than asked tells whether there is a next page.
	sr := bleve.NewSearchRequestOptions(q, req.Limit+1, 0, false)
	sr.SortBy([]string{"-_score", "_id"})
	if req.Cursor != "" {
		c, err := decodeCursor(req.Cursor)
		if err != nil || c.Query != req.Query {
			return nil, medmatch.Errorf(medmatch.EINVALID, "cursor", "is not a cursor from this query's previous page")
		}
		sr.SetSearchAfter([]string{c.Score, c.ID})
	}
	ctx, cancel := context.WithTimeout(ctx, MaxWallTime)
	defer cancel()
	ix.mu.RLock()
	sres, err := ix.idx.SearchInContext(ctx, sr)
	ix.mu.RUnlock()
	if err != nil {
		if ctx.Err() != nil {
			return nil, medmatch.Errorf(medmatch.EUNAVAILABLE, "q", "search took longer than %s", MaxWallTime)
		}
		return nil, fmt.Errorf("indexer.Search: %w", err)
	}
	res.Total = sres.Total
	if len(sres.Hits) > req.Limit {
		last := sres.Hits[req.Limit-1]
		res.NextCursor = encodeCursor(cursor{Score: strconv.FormatFloat(last.Score, 'g', -1, 64), ID: last.ID, Query: req.Query})
		sres.Hits = sres.Hits[:req.Limit]
	}
	refs := make([]medmatch.Ref, 0, len(sres.Hits))
	for _, h := range sres.Hits {
		ref, _ := parseDocID(h.ID)
		refs = append(refs, ref)
	}
	recs, err := ix.store.GetMany(ctx, v, refs)
	if err != nil {
		return nil, fmt.Errorf("indexer.Search: read hits: %w", err)
	}
	hl := newHighlighter(ix.an, terms)
	for i, h := range sres.Hits {
		if recs[i] == nil {
			continue // changed or deleted since it was indexed
		}
		hit := Hit{Kind: refs[i].Kind, ID: refs[i].ID, Score: h.Score, Title: recs[i].Text()[0].Value, Record: recs[i]}
		hit.Highlights = hl.record(recs[i])
		res.Hits = append(res.Hits, hit)
	}
	res.TookMS = ms(time.Since(start))
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func hasWord(s string) bool {
	for _, r := range s {
		if r > ' ' {
			return true
		}
	}
	return false
}

// textQuery matches terms across the text fields: each term may occur in any
// field (weighted by the field's boost); OperatorAnd requires every term.
func textQuery(terms []string, op string, minShould float64, common map[string]bool) query.Query {
	if len(common) > 0 && len(common) < len(terms) {
		var rare, frequent []string
		for _, t := range terms {
			if common[t] {
				frequent = append(frequent, t)
			} else {
				rare = append(rare, t)
			}
		}
		q := bleve.NewBooleanQuery()
		q.AddMust(textQuery(rare, op, minShould, nil))
		q.AddShould(textQuery(frequent, OperatorOr, 0, nil))
		return q
	}
	perTerm := make([]query.Query, 0, len(terms))
	seen := make(map[string]bool)
	for _, t := range terms {
		if seen[t] {
			continue
		}
		seen[t] = true
		fields := make([]query.Query, 0, len(textFields))
		for _, f := range textFields {
			q := bleve.NewTermQuery(t)
			q.SetField(f.Name)
			q.SetBoost(f.Boost)
			fields = append(fields, q)
		}
		perTerm = append(perTerm, bleve.NewDisjunctionQuery(fields...))
	}
	if op == OperatorAnd {
		return bleve.NewConjunctionQuery(perTerm...)
	}
	d := bleve.NewDisjunctionQuery(perTerm...)
	if minShould > 0 {
		d.SetMin(max(1, float64(int(minShould*float64(len(perTerm))))))
	}
	return d
}

// commonTerms returns the terms found in more than cutoff of the documents
// (in the text field where they are most frequent).
func (ix *Index) commonTerms(ctx context.Context, terms []string, cutoff float64) map[string]bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	adv, err := ix.idx.Advanced()
	if err != nil {
		return nil
	}
	r, err := adv.Reader()
	if err != nil {
		return nil
	}
	defer r.Close()
	n, err := r.DocCount()
	if err != nil || n == 0 {
		return nil
	}
	out := make(map[string]bool)
	for _, t := range terms {
		var df uint64
		for _, f := range textFields {
			tfr, err := r.TermFieldReader(ctx, []byte(t), f.Name, false, false, false)
			if err != nil {
				return nil
			}
			df = max(df, tfr.Count())
			tfr.Close()
		}
		if float64(df) > cutoff*float64(n) {
			out[t] = true
		}
	}
	return out
}

// anyOf matches documents whose keyword field holds one of values.
func anyOf(field string, values []string) query.Query {
	qs := make([]query.Query, len(values))
	for i, v := range values {
		q := bleve.NewTermQuery(v)
		q.SetField(field)
		qs[i] = q
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	if _, err := strconv.ParseFloat(c.Score, 64); err != nil || c.ID == "" {
		return c, fmt.Errorf("bad cursor")
	}
	return c, nil
}
