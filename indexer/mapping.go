package indexer

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/medmatch/medmatch"
)

// mappingVersion changes whenever the mapping, the analyzers or the way
// records become documents change; an index of another version is rebuilt
// from the Store on open.
const mappingVersion = "4"

// doc is the indexed form of any record. Text is analysed with the gse index
// analyzer; keyword fields hold codes and labels for filters and facets.
// Nothing is stored: hits are read from the Store, which is the truth, and
// highlights are made from the Store's text (see highlight.go).
type doc struct {
	Type     string   `json:"type"`
	Aud      []string `json:"aud"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary,omitempty"`
	Body     string   `json:"body,omitempty"`
	Org      string   `json:"org,omitempty"`
	Special  []string `json:"specialty,omitempty"`
	Fields   []string `json:"fields,omitempty"`
	Maturity []string `json:"maturity,omitempty"`
	Modes    []string `json:"transfer_modes,omitempty"`
	Region   string   `json:"region,omitempty"`
	Inst     string   `json:"institution,omitempty"`
	IPType   string   `json:"ip_type,omitempty"`
	IPStatus string   `json:"ip_status,omitempty"`
	Status   string   `json:"status,omitempty"`
}

// BleveType tells bleve which document mapping applies.
func (d *doc) BleveType() string { return d.Type }

// textFields are the analysed fields, each with its query-time boost.
var textFields = []struct {
	Name  string
	Boost float64
}{{"title", 3}, {"summary", 2}, {"body", 1}, {"org", 1}}

var keywordFields = []string{"type", "aud", "specialty", "fields", "maturity", "transfer_modes", "region", "institution", "ip_type", "ip_status", "status"}

func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	for name, cfg := range customAnalyzers {
		if err := im.AddCustomAnalyzer(name, cfg); err != nil {
			return nil, err
		}
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
		for _, f := range textFields {
			if kindFields[k][f.Name] {
				dm.AddFieldMappingsAt(f.Name, textField())
			}
		}
		for _, name := range keywordFields {
			if name == "type" || name == "aud" || kindFields[k][name] {
				dm.AddFieldMappingsAt(name, keywordField(name))
			}
		}
		im.AddDocumentMapping(string(k), dm)
	}
	return im, nil
}

// kindFields lists the fields each kind fills (see toDoc).
var kindFields = map[medmatch.Kind]map[string]bool{
	medmatch.KindAchievement: set("title", "summary", "body", "org", "specialty", "fields", "maturity", "transfer_modes", "region", "institution", "ip_type", "ip_status", "status"),
	medmatch.KindNeed:        set("title", "summary", "body", "org", "specialty", "fields", "region", "institution", "status"),
	medmatch.KindTeam:        set("title", "body", "org", "specialty", "fields", "region", "institution"),
	medmatch.KindEnterprise:  set("title", "body", "fields", "region"),
	medmatch.KindDemand:      set("title", "body", "specialty", "fields", "maturity", "transfer_modes", "status"),
}

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func textField() *mapping.FieldMapping {
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = AnalyzerIndex
	fm.Store = false
	fm.IncludeTermVectors = false // highlights come from the Store's text
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

func toDoc(r medmatch.Record) *doc {
	d := &doc{Type: string(r.Kind()), Aud: r.Audience()}
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
