package indexer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/medmatch/medmatch"
)

// The query syntax, parsed without I/O:
//
//	心脏 支架            words (any may match; see Request.Operator)
//	"脑深部电刺激"        a phrase: required, its words in order ("…" or “…”)
//	-动物实验            exclude records with the word (or -"phrase")
//	title:脑起搏器        search one text field: title, summary,
//	                     description (body, text), institution (org)
//	specialty:骨科       filter on a facet: specialty, field, maturity,
//	                     mode (transfer_mode), region, ip_type,
//	                     ip_status, status, price (a price band), type
//	支架 OR 球囊          either side (matters with operator=and)
//
// A field name is ASCII letters and underscores before a colon; other
// colons (3:1, 时间：) are text. Errors name the problem and are EINVALID
// on field "q".

// item is one element of a parsed query.
type item struct {
	neg    bool
	phrase bool
	field  string // "" (all text fields), a text field name, or a facet name
	value  string
	group  int // items joined by OR share a group number > 0
}

// parsed is a parsed query.
type parsed struct {
	items []item
}

// textFieldNames maps the field names users may write to text fields.
var textFieldNames = map[string]string{
	"title": "title", "summary": "summary", "description": "body", "body": "body", "text": "body",
	"institution": "org", "org": "org", "hospital": "org",
}

// facetNames maps the field names users may write to facet (keyword) fields.
var facetNames = map[string]string{
	"specialty": "specialty", "field": "fields", "fields": "fields", "maturity": "maturity",
	"mode": "transfer_modes", "transfer_mode": "transfer_modes", "transfer_modes": "transfer_modes",
	"region": "region", "ip_type": "ip_type", "ip_status": "ip_status", "status": "status",
	"price": "price_band", "price_band": "price_band", "type": "type",
}

func qerr(format string, args ...any) error {
	return medmatch.Errorf(medmatch.EINVALID, "q", format, args...)
}

// parseQuery parses the query syntax. It fails on an unclosed quote, an
// unknown field, a field without a value, and OR without a term on each
// side.
func parseQuery(s string) (*parsed, error) {
	p := &parsed{}
	rs := []rune(s)
	i := 0
	group := 0
	pendingOr := false
	for {
		for i < len(rs) && isSpace(rs[i]) {
			i++
		}
		if i >= len(rs) {
			break
		}
		start := i
		var it item
		if rs[i] == '-' && i+1 < len(rs) && !isSpace(rs[i+1]) {
			it.neg = true
			i++
		}
		// field:
		if j := fieldEnd(rs, i); j > 0 {
			name := strings.ToLower(string(rs[i:j]))
			tf, isText := textFieldNames[name]
			ff, isFacet := facetNames[name]
			if !isText && !isFacet {
				return nil, qerr("unknown field %q at character %d (text fields: title, summary, description, institution; filters: specialty, field, maturity, mode, region, ip_type, ip_status, status, price, type)", name, i+1)
			}
			if isText {
				it.field = tf
			} else {
				it.field = ff
			}
			i = j + 1
			if i >= len(rs) || isSpace(rs[i]) {
				return nil, qerr("field %q at character %d has no value", name, start+1)
			}
		}
		if open := rs[i]; open == '"' || open == '“' {
			closeQ := '"'
			if open == '“' {
				closeQ = '”'
			}
			j := i + 1
			for j < len(rs) && rs[j] != closeQ && !(open == '“' && rs[j] == '"') {
				j++
			}
			if j >= len(rs) {
				return nil, qerr("unclosed quote at character %d", i+1)
			}
			it.phrase = true
			it.value = strings.TrimSpace(string(rs[i+1 : j]))
			i = j + 1
			if it.value == "" {
				return nil, qerr("empty phrase at character %d", start+1)
			}
		} else {
			j := i
			for j < len(rs) && !isSpace(rs[j]) {
				j++
			}
			it.value = string(rs[i:j])
			i = j
		}
		if !it.neg && !it.phrase && it.field == "" && it.value == "OR" {
			if len(p.items) == 0 || pendingOr {
				return nil, qerr("OR at character %d needs a term on both sides", start+1)
			}
			pendingOr = true
			continue
		}
		if pendingOr {
			prev := &p.items[len(p.items)-1]
			if prev.group == 0 {
				group++
				prev.group = group
			}
			it.group = prev.group
			pendingOr = false
		}
		p.items = append(p.items, it)
	}
	if pendingOr {
		return nil, qerr("OR at the end needs a term after it")
	}
	return p, nil
}

// fieldEnd returns the index of the colon when rs[i:] starts with a field
// name (ASCII letters and underscores) and a colon, else 0.
func fieldEnd(rs []rune, i int) int {
	j := i
	for j < len(rs) && (rs[j] == '_' || rs[j] < utf8.RuneSelf && unicode.IsLetter(rs[j])) {
		j++
	}
	if j > i && j < len(rs) && rs[j] == ':' {
		return j
	}
	return 0
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u3000' }

// isFacet reports whether an item filters on a facet field.
func (it item) isFacet() bool {
	for _, f := range facetNames {
		if it.field == f {
			return true
		}
	}
	return false
}

// normFacetValue checks and normalises a facet value: taxonomy synonyms map
// to labels, codes must be known.
func normFacetValue(tax *medmatch.Taxonomy, field, v string) (string, error) {
	switch field {
	case "specialty":
		if l, ok := tax.Specialties.Canonical(v); ok {
			return l, nil
		}
		return "", fmt.Errorf("unknown specialty %q", v)
	case "fields":
		if l, ok := tax.Fields.Canonical(v); ok {
			return l, nil
		}
		return "", fmt.Errorf("unknown field %q", v)
	case "maturity":
		return knownCode(v, medmatch.Maturities)
	case "transfer_modes":
		return knownCode(v, medmatch.TransferModes)
	case "ip_type":
		return knownCode(v, medmatch.IPTypes)
	case "ip_status":
		return knownCode(v, medmatch.IPStatuses)
	case "status":
		for _, s := range medmatch.Statuses {
			if strings.EqualFold(string(s), v) {
				return string(s), nil
			}
		}
		return knownCode(v, medmatch.DemandStatuses)
	case "price_band":
		if v == "面议" {
			return BandNegotiable, nil
		}
		return knownCode(v, PriceBands)
	case "type":
		k, err := medmatch.ParseKind("type", v)
		if err != nil {
			return "", fmt.Errorf("unknown record type %q", v)
		}
		return string(k), nil
	}
	return strings.TrimSpace(v), nil // region, institution: as written
}

func knownCode[T ~string](v string, list []T) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	for _, x := range list {
		if string(x) == v {
			return v, nil
		}
	}
	s := make([]string, len(list))
	for i, x := range list {
		s[i] = string(x)
	}
	return "", fmt.Errorf("unknown value %q (want one of %s)", v, strings.Join(s, ", "))
}
