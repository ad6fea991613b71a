package indexer

import (
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
)

// mappingVersion changes whenever the mapping, the analyzers or the way
// records become documents change; it includes the dictionary's version,
// since other dictionaries cut other words. An index of another version is
// rebuilt from the Store on open.
func mappingVersion() string { return "7/" + dict.Version() }

// SynonymCollection is the bleve synonym collection holding dict's synonym
// groups; every analysed word field expands query terms through it.
const (
	SynonymCollection = "medmatch_synonyms"
	synonymSource     = "medmatch_synonyms"
)

// doc is the indexed form of any record. Word fields are analysed with the
// gse index analyzer, char fields cut into single characters; keyword
// fields hold codes and labels for filters and facets; numbers and dates
// only where ranges and sorting need them. Nothing is stored: hits are read
// from the Store, which is the truth, and highlights are made from the
// Store's text (see highlight.go).
type doc struct {
	Type     string    `json:"type"`
	Aud      []string  `json:"aud"`
	Title    string    `json:"title"`
	Summary  string    `json:"summary,omitempty"`
	Body     string    `json:"body,omitempty"`
	Org      string    `json:"org,omitempty"`
	TitleC   string    `json:"title_c"`
	SummaryC string    `json:"summary_c,omitempty"`
	Special  []string  `json:"specialty,omitempty"`
	Fields   []string  `json:"fields,omitempty"`
	Maturity []string  `json:"maturity,omitempty"`
	Modes    []string  `json:"transfer_modes,omitempty"`
	Region   string    `json:"region,omitempty"`
	Inst     string    `json:"institution,omitempty"`
	IPType   string    `json:"ip_type,omitempty"`
	IPStatus string    `json:"ip_status,omitempty"`
	Status   string    `json:"status,omitempty"`
	Band     string    `json:"price_band,omitempty"`
	PriceLo  *float64  `json:"price_lo,omitempty"` // price or budget min, or unpricedLo
	PriceHi  *float64  `json:"price_hi,omitempty"` // price or budget max, or unpricedHi
	Updated  time.Time `json:"updated"`
}

// Price bounds indexed for records of priced kinds without a figure: they
// sort after every priced record in both directions (so search_after always
// has a number to resume from), and no price range includes them.
const (
	unpricedLo = 1e15
	unpricedHi = -1
)

// BleveType tells bleve which document mapping applies.
func (d *doc) BleveType() string { return d.Type }

// textField is a searched field: words (with their boost) and, for short
// fields, the characters of the same text in a char field.
type textField struct {
	Name  string
	Boost float64
	Chars string // the char field of the same text, "" if none
}

// textFields are the analysed fields, each with its query-time boost.
var textFields = []textField{{"title", 3, "title_c"}, {"summary", 2, "summary_c"}, {"body", 1, ""}, {"org", 1, ""}}

// charBoost weighs a character match against a word match.
const charBoost float64 = 10

var keywordFields = []string{"type", "aud", "specialty", "fields", "maturity", "transfer_modes", "region",
	"institution", "ip_type", "ip_status", "status", "price_band"}

// kindFields lists the fields each kind fills (see toDoc); type, aud and
// updated are in every kind.
var kindFields = map[medmatch.Kind]map[string]bool{
	medmatch.KindAchievement: set("title", "summary", "body", "org", "title_c", "summary_c", "specialty", "fields", "maturity",
		"transfer_modes", "region", "institution", "ip_type", "ip_status", "status", "price_band", "price_lo", "price_hi"),
	medmatch.KindNeed:       set("title", "summary", "body", "org", "title_c", "summary_c", "specialty", "fields", "region", "institution", "status"),
	medmatch.KindTeam:       set("title", "body", "org", "title_c", "specialty", "fields", "region", "institution"),
	medmatch.KindEnterprise: set("title", "body", "title_c", "fields", "region"),
	medmatch.KindDemand: set("title", "body", "title_c", "specialty", "fields", "maturity", "transfer_modes", "status",
		"price_band", "price_lo", "price_hi"),
}

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	for name, cfg := range customAnalyzers {
		if err := im.AddCustomAnalyzer(name, cfg); err != nil {
			return nil, err
		}
	}
	if err := im.AddSynonymSource(synonymSource, map[string]interface{}{
		"collection": SynonymCollection, "analyzer": AnalyzerQuery}); err != nil {
		return nil, err
	}
	im.ScoringModel = index.BM25Scoring
	im.DefaultAnalyzer = AnalyzerIndex
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false

	// One document mapping per record kind, chosen by the "type" field,
	// holding the fields that kind fills. The analysed fields have the same
	// names in every kind, so one query searches them all.
	im.TypeField = "type"
	im.DefaultMapping = bleve.NewDocumentDisabledMapping()
	for _, k := range medmatch.Kinds {
		dm := bleve.NewDocumentStaticMapping()
		// No _all field: queries name their fields, and _all costs ~5% of
		// indexing time even when empty.
		dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
		for _, f := range textFields {
			if kindFields[k][f.Name] {
				dm.AddFieldMappingsAt(f.Name, wordField())
			}
			if f.Chars != "" && kindFields[k][f.Chars] {
				dm.AddFieldMappingsAt(f.Chars, charField(AnalyzerChars))
			}
		}
		for _, name := range keywordFields {
			if name == "type" || name == "aud" || kindFields[k][name] {
				dm.AddFieldMappingsAt(name, keywordField(name))
			}
		}
		for _, name := range []string{"price_lo", "price_hi"} {
			if kindFields[k][name] {
				fm := bleve.NewNumericFieldMapping()
				fm.Store, fm.IncludeInAll = false, false
				fm.DocValues = true // sorting
				dm.AddFieldMappingsAt(name, fm)
			}
		}
		fm := bleve.NewDateTimeFieldMapping()
		fm.Store, fm.IncludeInAll = false, false
		fm.DocValues = true // sorting and date facets
		dm.AddFieldMappingsAt("updated", fm)
		im.AddDocumentMapping(string(k), dm)
	}
	return im, nil
}

// wordField: gse words with sub-words, positions and term vectors (phrase
// queries need them), synonyms expanded at query time.
func wordField() *mapping.FieldMapping {
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = AnalyzerIndex
	fm.Store = false
	fm.IncludeTermVectors = true
	fm.IncludeInAll = false
	fm.DocValues = false
	fm.SynonymSource = synonymSource
	return fm
}

// charField: single characters, for recall where words differ (孕 in 怀孕);
// no term vectors.
func charField(analyzer string) *mapping.FieldMapping {
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = analyzer
	fm.Store = false
	fm.IncludeTermVectors = false
	fm.IncludeInAll = false
	fm.DocValues = false
	return fm
}

func keywordField(name string) *mapping.FieldMapping {
	fm := bleve.NewKeywordFieldMapping()
	fm.Analyzer = keyword.Name
	fm.Store = false
	fm.IncludeTermVectors = false
	fm.IncludeInAll = false
	fm.DocValues = name != "aud" && name != "type" // facets read doc values
	return fm
}

// docID is the bleve id of a record: ids are unique per kind only.
func docID(k medmatch.Kind, id string) string { return string(k) + "/" + id }

func parseDocID(s string) (medmatch.Ref, bool) {
	k, id, ok := strings.Cut(s, "/")
	return medmatch.Ref{Kind: medmatch.Kind(k), ID: id}, ok
}

// Price bands, the price facet's buckets (in 万元).
const (
	BandNegotiable = "negotiable" // 面议, no figure
	BandUnder50    = "lt50"
	Band50to200    = "50_200"
	Band200to500   = "200_500"
	Band500to1000  = "500_1000"
	BandOver1000   = "gte1000"
)

// PriceBands lists the bands in order.
var PriceBands = []string{BandNegotiable, BandUnder50, Band50to200, Band200to500, Band500to1000, BandOver1000}

// priceBand returns the band of a price (by its lower bound) and the bounds
// to index.
func priceBand(p *medmatch.Price) (string, *float64, *float64) {
	if p == nil {
		return "", nil, nil
	}
	lo, hi := p.Min, p.Max
	if lo == 0 {
		lo = hi
	}
	if hi == 0 {
		hi = lo
	}
	if lo == 0 {
		if p.Negotiable {
			return BandNegotiable, nil, nil
		}
		return "", nil, nil
	}
	var band string
	switch {
	case lo < 50:
		band = BandUnder50
	case lo < 200:
		band = Band50to200
	case lo < 500:
		band = Band200to500
	case lo < 1000:
		band = Band500to1000
	default:
		band = BandOver1000
	}
	return band, &lo, &hi
}

func toDoc(r medmatch.Record) *doc {
	d := &doc{Type: string(r.Kind()), Aud: r.Audience(), Updated: r.Base().UpdatedAt}
	join := func(xs ...string) string {
		var b strings.Builder
		for _, x := range xs {
			if x == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(x)
		}
		return b.String()
	}
	switch r := r.(type) {
	case *medmatch.Achievement:
		d.Title, d.Summary, d.Body = r.Title, r.Summary, r.Description
		d.Org = join(r.Institution, strings.Join(r.Team, "，"))
		d.Special, d.Fields = nonEmpty(r.Specialty), r.Fields
		d.Maturity = nonEmpty(string(r.Maturity))
		d.Modes = codes(r.TransferModes)
		d.Region, d.Inst, d.Status = r.Region, r.Institution, string(r.Status)
		if r.IP != nil {
			d.IPType, d.IPStatus = string(r.IP.Type), string(r.IP.Status)
		}
		d.Band, d.PriceLo, d.PriceHi = priceBand(r.Price)
	case *medmatch.ClinicalNeed:
		d.Title, d.Summary = r.Title, r.Problem
		d.Body = join(r.CurrentPractice, r.DesiredOutcome)
		d.Org = join(r.Hospital, r.Department)
		d.Special, d.Fields = nonEmpty(r.Specialty), r.Fields
		d.Region, d.Inst, d.Status = r.Region, r.Hospital, string(r.Status)
	case *medmatch.Team:
		d.Title, d.Body = r.Name, r.Expertise
		d.Org = join(r.Institution, r.Discipline)
		d.Special, d.Fields = r.Specialties, r.Fields
		d.Region, d.Inst = r.Region, r.Institution
	case *medmatch.Enterprise:
		d.Title, d.Body = r.Name, r.Profile
		d.Fields, d.Region = r.Fields, r.Region
	case *medmatch.Demand:
		d.Title, d.Body = r.Title, r.Description
		d.Special, d.Fields = nonEmpty(r.Specialty), r.Fields
		d.Maturity = codes(r.Maturity)
		d.Modes = codes(r.TransferModes)
		d.Status = string(r.Status)
		d.Band, d.PriceLo, d.PriceHi = priceBand(r.Budget)
	}
	d.TitleC, d.SummaryC = d.Title, d.Summary
	if kindFields[r.Kind()]["price_lo"] && d.PriceLo == nil {
		lo, hi := float64(unpricedLo), float64(unpricedHi)
		d.PriceLo, d.PriceHi = &lo, &hi
	}
	return d
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func codes[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
