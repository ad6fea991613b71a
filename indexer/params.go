package indexer

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/medmatch/medmatch"
)

// Parameter names of a search, shared by the HTTP API and the CLI.
var filterParams = map[string]string{
	"specialty": "specialty", "fields": "fields", "field": "fields", "maturity": "maturity",
	"transfer_modes": "transfer_modes", "mode": "transfer_modes", "region": "region", "institution": "institution",
	"ip_type": "ip_type", "ip_status": "ip_status", "status": "status", "price_band": "price_band",
}

// knownParams are the other accepted parameters.
var knownParams = map[string]bool{"q": true, "type": true, "limit": true, "cursor": true, "operator": true, "sort": true,
	"facets": true, "highlight": true, "price_min": true, "price_max": true, "updated_from": true, "updated_to": true}

// ParseParams turns search parameters (the API's query string) into a
// Request: q, type, limit, cursor, operator, sort, facets (comma-separated,
// or "all"), highlight=false, the filters (specialty, fields, maturity,
// transfer_modes, region, institution, ip_type, ip_status, status,
// price_band; repeat the parameter or separate values with commas),
// price_min and price_max (万元), updated_from and updated_to (2026-01-31
// or RFC 3339). An unknown parameter is an error naming it, so that a typo
// never silently widens a search.
func ParseParams(v url.Values) (Request, error) {
	var r Request
	for name := range v {
		if !knownParams[name] && filterParams[name] == "" {
			return r, medmatch.Errorf(medmatch.EINVALID, name, "unknown search parameter")
		}
	}
	r.Query, r.Cursor, r.Operator, r.Sort = v.Get("q"), v.Get("cursor"), v.Get("operator"), v.Get("sort")
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return r, medmatch.Errorf(medmatch.EINVALID, "limit", "must be a whole number between 1 and %d, got %q", MaxLimit, s)
		}
		r.Limit = n
	}
	for _, t := range list(v["type"]) {
		k, err := medmatch.ParseKind("type", t)
		if err != nil {
			return r, err
		}
		r.Kinds = append(r.Kinds, k)
	}
	for name, field := range filterParams {
		for _, val := range list(v[name]) {
			if r.Filters == nil {
				r.Filters = map[string][]string{}
			}
			r.Filters[field] = append(r.Filters[field], val)
		}
	}
	for _, f := range list(v["facets"]) {
		if f == "all" {
			r.Facets = append(r.Facets[:0], Facets...)
			break
		}
		r.Facets = append(r.Facets, f)
	}
	if s := v.Get("highlight"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return r, medmatch.Errorf(medmatch.EINVALID, "highlight", "must be true or false, got %q", s)
		}
		r.NoHighlight = !b
	}
	for name, dst := range map[string]**float64{"price_min": &r.PriceMin, "price_max": &r.PriceMax} {
		if s := v.Get(name); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return r, medmatch.Errorf(medmatch.EINVALID, name, "must be a number (万元), got %q", s)
			}
			*dst = &f
		}
	}
	for name, dst := range map[string]**time.Time{"updated_from": &r.UpdatedFrom, "updated_to": &r.UpdatedTo} {
		if s := v.Get(name); s != "" {
			t, err := parseTime(s)
			if err != nil {
				return r, medmatch.Errorf(medmatch.EINVALID, name, "must be a date like 2026-01-31 or a time like 2026-01-31T08:00:00Z, got %q", s)
			}
			*dst = &t
		}
	}
	return r, nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// list splits repeated and comma-separated values, dropping empty ones.
func list(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '，' }) {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
