package indexer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
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

// Sort orders.
const (
	SortRelevance = "relevance" // default
	SortNewest    = "newest"    // updated_at, newest first
	SortPrice     = "price"     // lowest price (or budget) first; unpriced last
	SortPriceDesc = "price_desc"
)

// Facets lists the facets Search can count: keyword fields, price bands and
// updated-date ranges.
var Facets = []string{"type", "specialty", "fields", "maturity", "transfer_modes", "region", "institution",
	"ip_type", "ip_status", "status", "price_band", "updated"}

// facetSize is how many values of each facet are returned.
var facetSize = map[string]int{"specialty": 20, "fields": 10, "maturity": 10, "transfer_modes": 5, "region": 40,
	"institution": 30, "ip_type": 5, "ip_status": 5, "status": 10, "price_band": 7, "type": 5}

// UpdatedRanges are the updated-date facet's buckets: updated within the
// last N days.
var UpdatedRanges = []struct {
	Name string
	Days int
}{{"7d", 7}, {"30d", 30}, {"90d", 90}, {"365d", 365}}

// CommonCutoff: with OperatorOr, a query word found in more than this
// fraction of the records is "common" (医院, 研究, 技术). Common words add
// to the score of records that match a rarer word of the query but do not
// make a record a hit on their own, unless every word of the query is
// common. This keeps a query for 医院内转运 from matching every record of
// every hospital, and keeps it fast.
const CommonCutoff = 0.2

// CharMin is the fraction of a query chunk's characters a record must
// contain to match on characters alone (when none of its words match).
const CharMin = 0.3

// Request is a search.
type Request struct {
	Query string          // user text in the query syntax (syntax.go); empty lists everything visible
	Kinds []medmatch.Kind // record types to search; all when empty
	// Filters select records by facet value: field → values, OR within a
	// field, AND across fields. Fields are those of Facets except updated.
	Filters map[string][]string
	// PriceMin and PriceMax (万元) keep records whose price or budget range
	// overlaps [PriceMin, PriceMax].
	PriceMin, PriceMax *float64
	// UpdatedFrom and UpdatedTo keep records updated in [from, to).
	UpdatedFrom, UpdatedTo *time.Time
	Sort                   string   // SortRelevance (default), SortNewest, SortPrice, SortPriceDesc
	Operator               string   // OperatorOr (default) or OperatorAnd
	Limit                  int      // hits per page, 1..MaxLimit; 0 means DefaultLimit
	Cursor                 string   // from Result.NextCursor
	Facets                 []string // facets to count (see Facets)
	NoHighlight            bool     // skip highlights (faster)

	// Evaluation knobs; zero values mean the defaults.
	MinShould float64  // with OperatorOr, the fraction of words required
	Common    float64  // overrides CommonCutoff (negative: off)
	CharMin   float64  // overrides CharMin (negative: no character matching)
	Fields    []string // restrict text search to these fields (title, summary, body, org)
	CharBoost float64  // overrides charBoost
	// FieldBoosts overrides text field boosts (title, summary, body, org).
	FieldBoosts map[string]float64
	NoWords     bool // characters only
	// Plain takes Query as words only, without the query syntax (quotes,
	// -, field:, OR are text).
	Plain bool
}

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

// FacetValue is one value of a facet and how many hits have it.
type FacetValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Result is one page of hits.
type Result struct {
	Query      string                  `json:"query"`
	Terms      []string                `json:"terms"` // the words the query was cut into
	Total      uint64                  `json:"total"`
	TookMS     float64                 `json:"took_ms"`
	Hits       []Hit                   `json:"hits"`
	Facets     map[string][]FacetValue `json:"facets,omitempty"`
	NextCursor string                  `json:"next_cursor,omitempty"`
}

type cursor struct {
	After []string `json:"a"`
	Key   string   `json:"k"` // fingerprint of the search the cursor belongs to
}

func (r *Request) validate(tax *medmatch.Taxonomy) error {
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
	switch r.Sort {
	case "":
		r.Sort = SortRelevance
	case SortRelevance, SortNewest, SortPrice, SortPriceDesc:
	default:
		return medmatch.Errorf(medmatch.EINVALID, "sort", "unknown sort %q (want relevance, newest, price, price_desc)", r.Sort)
	}
	for _, k := range r.Kinds {
		if !k.Valid() {
			return medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", k)
		}
	}
	for f, vs := range r.Filters {
		if f == "updated" || !oneOfString(f, Facets) {
			return medmatch.Errorf(medmatch.EINVALID, f, "is not a filter (want one of %s)", strings.Join(Facets[:len(Facets)-1], ", "))
		}
		for i, v := range vs {
			n, err := normFacetValue(tax, f, v)
			if err != nil {
				return medmatch.Errorf(medmatch.EINVALID, f, "%s", err)
			}
			vs[i] = n
		}
	}
	for _, f := range r.Facets {
		if !oneOfString(f, Facets) {
			return medmatch.Errorf(medmatch.EINVALID, "facets", "unknown facet %q (want %s)", f, strings.Join(Facets, ", "))
		}
	}
	for _, p := range []*float64{r.PriceMin, r.PriceMax} {
		if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0) || *p < 0) {
			return medmatch.Errorf(medmatch.EINVALID, "price", "must be a number ≥ 0")
		}
	}
	if r.PriceMin != nil && r.PriceMax != nil && *r.PriceMin > *r.PriceMax {
		return medmatch.Errorf(medmatch.EINVALID, "price_max", "is below price_min")
	}
	if r.UpdatedFrom != nil && r.UpdatedTo != nil && !r.UpdatedFrom.Before(*r.UpdatedTo) {
		return medmatch.Errorf(medmatch.EINVALID, "updated_to", "is not after updated_from")
	}
	for _, f := range r.Fields {
		if _, ok := textFieldByName(f); !ok {
			return medmatch.Errorf(medmatch.EINVALID, "fields", "unknown text field %q", f)
		}
	}
	return nil
}

func oneOfString(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

func textFieldByName(name string) (textField, bool) {
	for _, f := range textFields {
		if f.Name == name {
			return f, true
		}
	}
	return textField{}, false
}

// compiled is a request turned into bleve queries.
type compiled struct {
	text    query.Query            // what scores; nil: match all
	mustNot []query.Query          // excluded words and facet values
	filters map[string]query.Query // facet field → its filter
	other   []query.Query          // visibility, type, ranges
	terms   []string               // words to highlight (with synonyms)
}

// Search runs req for viewer v: only records v may read are hits, and
// facet counts count only them.
func (ix *Index) Search(ctx context.Context, v medmatch.Viewer, req Request) (*Result, error) {
	start := time.Now()
	tax, err := dict.Taxonomy()
	if err != nil {
		return nil, err
	}
	if err := req.validate(tax); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, MaxWallTime)
	defer cancel()
	// Held for the whole search: Rebuild swaps the index under the write lock.
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	c, err := ix.compile(ctx, v, &req, tax)
	if err != nil {
		return nil, err
	}
	res := &Result{Query: req.Query, Terms: c.terms, Hits: []Hit{}}
	if res.Terms == nil {
		res.Terms = []string{}
	}

	sr := bleve.NewSearchRequestOptions(c.query(""), req.Limit+1, 0, false) // one more: is there a next page?
	order, err := sortOrder(req.Sort)
	if err != nil {
		return nil, err
	}
	sr.SortByCustom(order)
	key := req.fingerprint()
	if req.Cursor != "" {
		cur, err := decodeCursor(req.Cursor)
		if err != nil || cur.Key != key || len(cur.After) != len(order) {
			return nil, medmatch.Errorf(medmatch.EINVALID, "cursor", "is not a cursor from this search's previous page")
		}
		sr.SetSearchAfter(cur.After)
	}
	// Facets without an active filter come with the main query; each facet
	// with one is counted by a query without its own filter (disjunctive
	// faceting), so choosing 骨科 still shows how many hits other
	// specialties would give.
	var separate []string
	for _, f := range req.Facets {
		if _, active := c.filters[f]; active {
			separate = append(separate, f)
			continue
		}
		sr.AddFacet(f, facetRequest(f))
	}

	sres, err := ix.idx.SearchInContext(ctx, sr)
	if err != nil {
		return nil, searchError(ctx, err)
	}
	res.Total = sres.Total
	if len(req.Facets) > 0 {
		res.Facets = make(map[string][]FacetValue)
		for name, fr := range sres.Facets {
			res.Facets[name] = facetValues(name, fr)
		}
		for _, f := range separate {
			fsr := bleve.NewSearchRequestOptions(c.query(f), 0, 0, false)
			fsr.AddFacet(f, facetRequest(f))
			fres, err := ix.idx.SearchInContext(ctx, fsr)
			if err != nil {
				return nil, searchError(ctx, err)
			}
			res.Facets[f] = facetValues(f, fres.Facets[f])
		}
	}
	if len(sres.Hits) > req.Limit {
		last := sres.Hits[req.Limit-1]
		after := make([]string, len(order))
		for i, o := range order {
			switch {
			case isScore(o):
				after[i] = strconv.FormatFloat(last.Score, 'g', -1, 64)
			case i < len(last.DecodedSort):
				after[i] = last.DecodedSort[i]
			}
		}
		res.NextCursor = encodeCursor(cursor{After: after, Key: key})
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
	var hl *highlighter
	if !req.NoHighlight {
		hl = newHighlighter(ix.an, c.terms)
	}
	for i, h := range sres.Hits {
		if recs[i] == nil {
			continue // changed or deleted since it was indexed
		}
		hit := Hit{Kind: refs[i].Kind, ID: refs[i].ID, Score: h.Score, Title: medmatch.TitleOf(recs[i]), Record: recs[i]}
		if hl != nil {
			hit.Highlights = hl.record(recs[i])
		}
		if req.Sort != SortRelevance {
			hit.Score = 0 // not computed
		}
		res.Hits = append(res.Hits, hit)
	}
	res.TookMS = ms(time.Since(start))
	return res, nil
}

func searchError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return medmatch.Errorf(medmatch.EUNAVAILABLE, "q", "search took longer than %s", MaxWallTime)
	}
	return fmt.Errorf("indexer.Search: %w", err)
}

func isScore(s search.SearchSort) bool {
	_, ok := s.(*search.SortScore)
	return ok
}

// query assembles the compiled parts, leaving out the filter of facet
// field without ("" leaves out none).
func (c *compiled) query(without string) query.Query {
	q := bleve.NewBooleanQuery()
	if c.text != nil {
		q.AddMust(c.text)
	} else {
		q.AddMust(bleve.NewMatchAllQuery())
	}
	if len(c.mustNot) > 0 {
		q.AddMustNot(c.mustNot...)
	}
	fs := append([]query.Query(nil), c.other...)
	names := make([]string, 0, len(c.filters))
	for name := range c.filters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name != without {
			fs = append(fs, c.filters[name])
		}
	}
	switch len(fs) {
	case 0:
	case 1:
		q.AddFilter(fs[0])
	default:
		q.AddFilter(bleve.NewConjunctionQuery(fs...))
	}
	return q
}

func sortOrder(s string) (search.SortOrder, error) {
	id := &search.SortDocID{}
	switch s {
	case SortNewest:
		return search.SortOrder{&search.SortField{Field: "updated", Desc: true, Type: search.SortFieldAsDate, Missing: search.SortFieldMissingLast}, id}, nil
	case SortPrice:
		return search.SortOrder{&search.SortField{Field: "price_lo", Type: search.SortFieldAsNumber}, id}, nil
	case SortPriceDesc:
		return search.SortOrder{&search.SortField{Field: "price_hi", Desc: true, Type: search.SortFieldAsNumber}, id}, nil
	}
	return search.SortOrder{&search.SortScore{Desc: true}, id}, nil
}

// fingerprint identifies everything but the cursor and the limit, so that
// a cursor is only used with the search it came from.
func (r *Request) fingerprint() string {
	b, _ := json.Marshal(struct {
		Q, S, O string
		K       []medmatch.Kind
		F       map[string][]string
		P1, P2  *float64
		U1, U2  *time.Time
		M, C, X float64
		TF      []string
	}{r.Query, r.Sort, r.Operator, r.Kinds, r.Filters, r.PriceMin, r.PriceMax, r.UpdatedFrom, r.UpdatedTo,
		r.MinShould, r.Common, r.CharMin, r.Fields})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}

func facetRequest(name string) *bleve.FacetRequest {
	if name == "updated" {
		fr := bleve.NewFacetRequest("updated", len(UpdatedRanges))
		now := time.Now()
		for _, r := range UpdatedRanges {
			fr.AddDateTimeRange(r.Name, now.AddDate(0, 0, -r.Days), time.Time{})
		}
		return fr
	}
	return bleve.NewFacetRequest(name, facetSize[name])
}

func facetValues(name string, fr *search.FacetResult) []FacetValue {
	out := []FacetValue{}
	if fr == nil {
		return out
	}
	if name == "updated" {
		counts := map[string]int{}
		for _, d := range fr.DateRanges {
			counts[d.Name] = d.Count
		}
		for _, r := range UpdatedRanges {
			out = append(out, FacetValue{r.Name, counts[r.Name]})
		}
		return out
	}
	if fr.Terms != nil {
		for _, t := range fr.Terms.Terms() {
			out = append(out, FacetValue{t.Term, t.Count})
		}
	}
	return out
}

// compile parses the query and builds its parts.
func (ix *Index) compile(ctx context.Context, v medmatch.Viewer, req *Request, tax *medmatch.Taxonomy) (*compiled, error) {
	p := &parsed{items: []item{{value: req.Query}}}
	if !req.Plain {
		var err error
		if p, err = parseQuery(req.Query); err != nil {
			return nil, err
		}
	}
	c := &compiled{filters: make(map[string]query.Query)}
	facetVals := make(map[string][]string)
	for f, vs := range req.Filters {
		facetVals[f] = append(facetVals[f], vs...)
	}
	// Text items, by role.
	type chunk struct {
		words  []string
		chars  []string
		fields []textField
	}
	var should, must []query.Query
	var plain []chunk // positive, not phrases, not in an OR group
	groups := map[int][]query.Query{}
	var groupOrder []int
	fieldsFor := func(it item) []textField {
		var names []string
		if it.field != "" {
			names = []string{it.field}
		} else if len(req.Fields) > 0 {
			names = req.Fields
		}
		var out []textField
		if names == nil {
			out = append(out, textFields...)
		} else {
			for _, n := range names {
				if f, ok := textFieldByName(n); ok {
					out = append(out, f)
				}
			}
		}
		for i := range out {
			if b, ok := req.FieldBoosts[out[i].Name]; ok {
				out[i].Boost = b
			}
		}
		return out
	}
	seenTerm := map[string]bool{}
	addTerms := func(ws []string) {
		for _, w := range ws {
			if !seenTerm[w] {
				seenTerm[w] = true
				c.terms = append(c.terms, w)
			}
		}
	}
	charMin := CharMin
	if req.CharMin != 0 {
		charMin = req.CharMin
	}
	for _, it := range p.items {
		if it.isFacet() {
			val, err := normFacetValue(tax, it.field, it.value)
			if err != nil {
				return nil, qerr("%s: %s", it.field, err)
			}
			if it.neg {
				c.mustNot = append(c.mustNot, termIn(it.field, val))
			} else {
				facetVals[it.field] = append(facetVals[it.field], val)
			}
			continue
		}
		fields := fieldsFor(it)
		words := ix.an.Terms(it.value)
		if len(words) == 0 && (it.neg || it.phrase || it.group > 0) {
			continue // punctuation or stop words only
		}
		switch {
		case it.neg:
			c.mustNot = append(c.mustNot, phraseOrAll(words, fields, it.phrase))
		case it.phrase:
			addTerms(words)
			must = append(must, phraseOrAll(words, fields, true))
		case it.group > 0:
			addTerms(words)
			if _, ok := groups[it.group]; !ok {
				groupOrder = append(groupOrder, it.group)
			}
			groups[it.group] = append(groups[it.group], wordsQuery(words, fields, req.Operator))
		default:
			addTerms(words)
			ch := chunk{words: words, fields: fields}
			if charMin > 0 {
				for _, t := range ix.an.Tokens([]byte(it.value), dict.Chars) {
					ch.chars = append(ch.chars, string(t.Term))
				}
			}
			plain = append(plain, ch)
		}
	}
	for _, g := range groupOrder {
		d := bleve.NewDisjunctionQuery(groups[g]...)
		if req.Operator == OperatorAnd {
			must = append(must, d)
		} else {
			should = append(should, d)
		}
	}
	// Plain words: OR (with the common-word rule) or AND.
	var optional []query.Query
	if len(plain) > 0 {
		var all []string
		for _, ch := range plain {
			all = append(all, ch.words...)
		}
		cutoff := CommonCutoff
		if req.Common != 0 {
			cutoff = req.Common
		}
		var common map[string]bool
		if req.Operator == OperatorOr && cutoff > 0 {
			var chars []string
			for _, ch := range plain {
				chars = append(chars, ch.chars...)
			}
			common = ix.commonTerms(ctx, append(all, chars...), cutoff)
		}
		allCommon := true
		for _, w := range all {
			allCommon = allCommon && common[w]
		}
		var required []query.Query
		for _, ch := range plain {
			for _, w := range ch.words {
				if req.NoWords {
					break
				}
				q := termAcross(w, ch.fields)
				switch {
				case req.Operator == OperatorAnd:
					must = append(must, q)
				case common[w] && !allCommon:
					optional = append(optional, q)
				default:
					required = append(required, q)
				}
			}
			chunkCommon := true
			for _, w := range ch.words {
				chunkCommon = chunkCommon && common[w]
			}
			if chunkCommon && !allCommon {
				continue // 医院 is common: so is its evidence 医, 院
			}
			cb := charBoost
			if req.CharBoost > 0 {
				cb = req.CharBoost
			}
			// Characters select whatever their frequency: measured, the
			// common-word rule only loses relevant records here.
			sel, score := charsQuery(ch.chars, ch.fields, nil, charMin, cb)
			if sel != nil {
				if req.Operator == OperatorAnd {
					optional = append(optional, sel)
				} else {
					required = append(required, sel)
				}
			}
			if score != nil {
				optional = append(optional, score)
			}
		}
		if len(required) > 0 {
			d := bleve.NewDisjunctionQuery(required...)
			if req.MinShould > 0 {
				d.SetMin(max(1, float64(int(req.MinShould*float64(len(required))))))
			}
			should = append(should, d)
		}
	}
	// Assemble: phrases, AND words and OR groups (in AND mode) are required;
	// the OR words make one required disjunction; common words only score.
	var req2 []query.Query
	req2 = append(req2, must...)
	req2 = append(req2, should...)
	switch {
	case len(req2) == 0 && len(optional) == 0:
		c.text = nil
	case len(req2) == 0:
		c.text = bleve.NewDisjunctionQuery(optional...)
	default:
		q := bleve.NewBooleanQuery()
		q.AddMust(req2...)
		if len(optional) > 0 {
			q.AddShould(optional...)
		}
		c.text = q
	}
	if c.text == nil && len(c.mustNot) == 0 && len(facetVals) == 0 && req.Query != "" && hasWord(req.Query) && len(p.items) > 0 {
		// Only stop words or punctuation: nothing can match.
		c.text = bleve.NewMatchNoneQuery()
	}
	c.terms = ix.withSynonyms(c.terms)

	// Filters.
	for f, vs := range facetVals {
		if len(vs) > 0 {
			c.filters[f] = termIn(f, vs...)
		}
	}
	if !v.Staff() { // staff read every record
		c.other = append(c.other, termIn("aud", v.Principals()...))
	}
	if len(req.Kinds) > 0 {
		ks := make([]string, len(req.Kinds))
		for i, k := range req.Kinds {
			ks[i] = string(k)
		}
		c.other = append(c.other, termIn("type", ks...))
	} else if c.text == nil && v.Staff() {
		// Match-all must not list the index's synonym definitions.
		c.other = append(c.other, termIn("type", kindNames()...))
	}
	incl := true
	if req.PriceMin != nil {
		q := bleve.NewNumericRangeInclusiveQuery(req.PriceMin, nil, &incl, nil)
		q.SetField("price_hi")
		c.other = append(c.other, q)
	}
	if req.PriceMax != nil {
		q := bleve.NewNumericRangeInclusiveQuery(nil, req.PriceMax, nil, &incl)
		q.SetField("price_lo")
		c.other = append(c.other, q)
	}
	if req.UpdatedFrom != nil || req.UpdatedTo != nil {
		var from, to time.Time
		if req.UpdatedFrom != nil {
			from = *req.UpdatedFrom
		}
		if req.UpdatedTo != nil {
			to = *req.UpdatedTo
		}
		q := bleve.NewDateRangeQuery(from, to)
		q.SetField("updated")
		c.other = append(c.other, q)
	}
	return c, nil
}

func kindNames() []string {
	out := make([]string, len(medmatch.Kinds))
	for i, k := range medmatch.Kinds {
		out[i] = string(k)
	}
	return out
}

// termAcross matches word w in any of fields, weighted by field boost.
// Synonyms of w match too: the word fields expand terms through the index's
// synonym collection.
func termAcross(w string, fields []textField) query.Query {
	qs := make([]query.Query, 0, len(fields))
	for _, f := range fields {
		q := bleve.NewTermQuery(w)
		q.SetField(f.Name)
		q.SetBoost(f.Boost)
		qs = append(qs, q)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// wordsQuery matches words across fields: any of them, or all with AND.
func wordsQuery(words []string, fields []textField, op string) query.Query {
	qs := make([]query.Query, len(words))
	for i, w := range words {
		qs[i] = termAcross(w, fields)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	if op == OperatorAnd {
		return bleve.NewConjunctionQuery(qs...)
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// phraseOrAll matches words as a phrase (in order, adjacent) in one of
// fields, or, when not a phrase, all of them anywhere.
func phraseOrAll(words []string, fields []textField, phrase bool) query.Query {
	if !phrase || len(words) == 1 {
		return wordsQuery(words, fields, OperatorAnd)
	}
	qs := make([]query.Query, 0, len(fields))
	for _, f := range fields {
		q := bleve.NewPhraseQuery(words, f.Name)
		q.SetBoost(f.Boost)
		qs = append(qs, q)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// charsQuery matches the characters of a query chunk in the char fields.
// The first query selects: at least min of the uncommon characters (and
// at least two). The second only scores: the common characters.
func charsQuery(chars []string, fields []textField, common map[string]bool, min, boost float64) (query.Query, query.Query) {
	var rare, freq []query.Query
	seen := map[string]bool{}
	for _, ch := range chars {
		if seen[ch] {
			continue
		}
		seen[ch] = true
		var per []query.Query
		for _, f := range fields {
			if f.Chars == "" {
				continue
			}
			q := bleve.NewTermQuery(ch)
			q.SetField(f.Chars)
			q.SetBoost(f.Boost * boost)
			per = append(per, q)
		}
		var q query.Query
		switch len(per) {
		case 0:
			continue
		case 1:
			q = per[0]
		default:
			q = bleve.NewDisjunctionQuery(per...)
		}
		if common[ch] {
			freq = append(freq, q)
		} else {
			rare = append(rare, q)
		}
	}
	var sel, score query.Query
	if len(rare) >= 2 && min > 0 {
		need := math.Max(2, math.Ceil(min*float64(len(rare))))
		if min >= 1 {
			need = min // an absolute count (evaluation)
		}
		d := bleve.NewDisjunctionQuery(rare...)
		d.SetMin(math.Min(need, float64(len(rare))))
		sel = d
	}
	if len(freq) > 0 && min > 0 {
		score = bleve.NewDisjunctionQuery(freq...)
	}
	return sel, score
}

// termIn matches documents whose keyword field holds one of values.
func termIn(field string, values ...string) query.Query {
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

// commonTerms returns the terms found in more than cutoff of the records
// (in the field, word or char, where they are most frequent). Document
// frequencies are cached until the index changes.
func (ix *Index) commonTerms(ctx context.Context, terms []string, cutoff float64) map[string]bool {
	ix.dfMu.Lock()
	defer ix.dfMu.Unlock()
	if ix.df == nil {
		ix.df = map[string]uint64{}
		ix.dfN = 0
	}
	var r index.IndexReader
	for _, t := range terms {
		if _, ok := ix.df[t]; ok {
			continue
		}
		if r == nil {
			adv, err := ix.idx.Advanced()
			if err != nil {
				return nil
			}
			if r, err = adv.Reader(); err != nil {
				return nil
			}
			defer r.Close()
			n, err := r.DocCount()
			if err != nil {
				return nil
			}
			ix.dfN = n - min(n, synonymDocs())
		}
		var df uint64
		for _, f := range textFields {
			for _, name := range []string{f.Name, f.Chars} {
				if name == "" {
					continue
				}
				tfr, err := r.TermFieldReader(ctx, []byte(t), name, false, false, false)
				if err != nil {
					return nil
				}
				df = max(df, tfr.Count())
				tfr.Close()
			}
		}
		ix.df[t] = df
	}
	if ix.dfN == 0 {
		if len(ix.df) == 0 {
			return nil
		}
	}
	out := make(map[string]bool, len(terms))
	for _, t := range terms {
		out[t] = float64(ix.df[t]) > cutoff*float64(ix.dfN)
	}
	return out
}

// forgetDF drops cached document frequencies after the index changed.
func (ix *Index) forgetDF() {
	ix.dfMu.Lock()
	ix.df = nil
	ix.dfMu.Unlock()
}

// withSynonyms adds the synonyms of terms, for highlighting what the
// synonym expansion matched.
func (ix *Index) withSynonyms(terms []string) []string {
	syn := ix.synonyms()
	out := append([]string(nil), terms...)
	seen := map[string]bool{}
	for _, t := range terms {
		seen[t] = true
	}
	for _, t := range terms {
		for _, s := range syn[t] {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// synonyms maps each analysed synonym term to the others of its group.
func (ix *Index) synonyms() map[string][]string {
	ix.synOnce.Do(func() {
		ix.synMap = map[string][]string{}
		groups, err := dict.Synonyms()
		if err != nil {
			return
		}
		for _, g := range groups {
			var ts []string
			for _, w := range g {
				if t := ix.an.Terms(w); len(t) == 1 {
					ts = append(ts, t[0])
				}
			}
			for _, t := range ts {
				for _, o := range ts {
					if o != t {
						ix.synMap[t] = append(ix.synMap[t], o)
					}
				}
			}
		}
	})
	return ix.synMap
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
	if c.Key == "" || len(c.After) == 0 {
		return c, fmt.Errorf("bad cursor")
	}
	return c, nil
}
