package api

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/indexer"
)

// facetsByKind are the facets the search page shows for each record type.
var facetsByKind = map[medmatch.Kind][]string{
	medmatch.KindAchievement: {"specialty", "fields", "maturity", "transfer_modes", "price_band", "ip_status", "ip_type", "institution", "region", "updated"},
	medmatch.KindNeed:        {"specialty", "fields", "institution", "region", "updated"},
	medmatch.KindTeam:        {"specialty", "fields", "institution", "region"},
	medmatch.KindEnterprise:  {"fields", "region"},
	medmatch.KindDemand:      {"specialty", "fields", "maturity", "transfer_modes", "price_band", "updated"},
}

// searchKinds are the tabs of the search page, in order.
var searchKinds = []medmatch.Kind{medmatch.KindAchievement, medmatch.KindNeed, medmatch.KindTeam, medmatch.KindEnterprise, medmatch.KindDemand}

type tab struct {
	Label  string
	URL    string
	Active bool
}

type facetView struct {
	Name   string
	Label  string
	Open   bool
	Values []facetValueView
}

type facetValueView struct {
	Label  string
	Count  int
	URL    string
	Active bool
}

type hitView struct {
	URL      string
	Kind     string
	Title    template.HTML
	Snippets []snippet
	Badges   []string
	Meta     []string
}

type snippet struct {
	Field string
	Text  template.HTML
}

type chip struct {
	Label string
	URL   string
}

type searchView struct {
	Q          string
	Kind       medmatch.Kind
	Tabs       []tab
	Sorts      []option
	Hidden     []hiddenField // the state the sort form keeps
	Facets     []facetView
	Active     []chip // active filters, each with the URL that removes it
	Hits       []hitView
	Total      uint64
	TookMS     float64
	Page       int
	NextURL    string
	FirstURL   string
	Terms      []string
	Fewer      []chip // on no hits: the query without one of its words
	DidYouMean []chip
}

type option struct {
	Value    string
	Label    string
	Selected bool
}

type hiddenField struct{ Name, Value string }

// searchPage is GET /: the catalogue search. The query string is the
// search API's (q, type, the filters, sort, cursor) plus p, the page
// number shown, so a search can be bookmarked and shared.
func (s *Server) searchPage(c echo.Context) error {
	q := cloneValues(c.QueryParams())
	pageNo, _ := strconv.Atoi(q.Get("p"))
	pageNo = max(pageNo, 1)
	q.Del("p")
	kind := medmatch.KindAchievement
	if t := q.Get("type"); t != "" {
		k, err := medmatch.ParseKind("type", t)
		if err != nil {
			return err
		}
		kind = k
	}
	params := cloneValues(q)
	params.Set("type", string(kind))
	params.Set("facets", strings.Join(facetsByKind[kind], ","))
	if params.Get("limit") == "" {
		params.Set("limit", "10")
	}
	req, err := indexer.ParseParams(params)
	if err != nil {
		return err
	}
	res, err := s.index.Load().Search(c.Request().Context(), viewer(c), req)
	if err != nil {
		return err
	}
	view := &searchView{Q: q.Get("q"), Kind: kind, Total: res.Total, TookMS: res.TookMS, Page: pageNo, Terms: res.Terms}
	base := cloneValues(q)
	base.Del("cursor")
	for _, k := range searchKinds {
		u := url.Values{}
		if view.Q != "" {
			u.Set("q", view.Q)
		}
		if k != medmatch.KindAchievement {
			u.Set("type", string(k))
		}
		view.Tabs = append(view.Tabs, tab{Label: label("type", k), URL: pageURL("/", u), Active: k == kind})
	}
	cur := req.Sort
	if cur == "" {
		cur = indexer.SortRelevance
	}
	for _, so := range []string{indexer.SortRelevance, indexer.SortNewest, indexer.SortPrice, indexer.SortPriceDesc} {
		if (so == indexer.SortPrice || so == indexer.SortPriceDesc) && kind != medmatch.KindAchievement && kind != medmatch.KindDemand {
			continue
		}
		view.Sorts = append(view.Sorts, option{Value: so, Label: label("sort", so), Selected: so == cur})
	}
	for name, vals := range base {
		if name == "sort" {
			continue
		}
		for _, v := range vals {
			view.Hidden = append(view.Hidden, hiddenField{name, v})
		}
	}
	sort.Slice(view.Hidden, func(i, j int) bool { return view.Hidden[i].Name < view.Hidden[j].Name })

	// Facets: a click toggles the value (OR within a facet); the counts are
	// disjunctive, so other values of an active facet keep their counts.
	for _, name := range facetsByKind[kind] {
		fv := facetView{Name: name, Label: label("facet", name)}
		for _, v := range res.Facets[name] {
			if v.Count == 0 && !facetActive(base, name, v.Value) {
				continue
			}
			fv.Values = append(fv.Values, facetValueView{Label: facetLabel(name, v.Value), Count: v.Count,
				URL: pageURL("/", toggleFacet(base, name, v.Value)), Active: facetActive(base, name, v.Value)})
			fv.Open = fv.Open || facetActive(base, name, v.Value)
		}
		if len(fv.Values) > 0 {
			view.Facets = append(view.Facets, fv)
		}
	}
	for name, vals := range base {
		switch name {
		case "q", "type", "sort", "limit", "operator", "highlight":
			continue
		}
		for _, v := range vals {
			u := cloneValues(base)
			u.Del(name)
			for _, o := range vals {
				if o != v {
					u.Add(name, o)
				}
			}
			view.Active = append(view.Active, chip{Label: label("facet", filterFacet(name)) + "：" + filterLabel(name, v), URL: pageURL("/", u)})
		}
	}
	sort.Slice(view.Active, func(i, j int) bool { return view.Active[i].Label < view.Active[j].Label })

	for _, h := range res.Hits {
		view.Hits = append(view.Hits, hitOf(h))
	}
	if res.NextCursor != "" {
		u := cloneValues(base)
		u.Set("cursor", res.NextCursor)
		u.Set("p", strconv.Itoa(pageNo+1))
		view.NextURL = pageURL("/", u)
	}
	if pageNo > 1 {
		view.FirstURL = pageURL("/", base)
	}
	if res.Total == 0 && view.Q != "" {
		if len(res.Terms) > 1 {
			for _, t := range res.Terms {
				var rest []string
				for _, o := range res.Terms {
					if o != t {
						rest = append(rest, o)
					}
				}
				u := cloneValues(base)
				u.Set("q", strings.Join(rest, " "))
				view.Fewer = append(view.Fewer, chip{Label: "去掉“" + t + "”", URL: pageURL("/", u)})
			}
		}
		if sugg, err := s.index.Load().Suggest(c.Request().Context(), viewer(c), view.Q, 5); err == nil {
			for _, sg := range sugg {
				u := cloneValues(base)
				u.Set("q", sg.Text)
				view.DidYouMean = append(view.DidYouMean, chip{Label: sg.Text, URL: pageURL("/", u)})
			}
		}
	}
	title := "成果检索"
	if view.Q != "" {
		title = view.Q + " · 检索"
	}
	return s.render(c, http.StatusOK, "search", title, view)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func pageURL(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// The updated facet filters with updated_from; the others with their
// own parameter.
func facetParam(name string) string {
	if name == "updated" {
		return "updated_from"
	}
	return name
}

func filterFacet(param string) string {
	switch param {
	case "updated_from", "updated_to":
		return "updated"
	case "field":
		return "fields"
	case "mode":
		return "transfer_modes"
	}
	return param
}

func updatedFrom(bucket string) string {
	for _, r := range indexer.UpdatedRanges {
		if r.Name == bucket {
			return time.Now().AddDate(0, 0, -r.Days).Format(time.DateOnly)
		}
	}
	return ""
}

func facetActive(v url.Values, name, value string) bool {
	if name == "updated" {
		return v.Get("updated_from") != "" && v.Get("updated_from") == updatedFrom(value)
	}
	for _, x := range v[name] {
		for _, p := range strings.Split(x, ",") {
			if p == value {
				return true
			}
		}
	}
	return false
}

func toggleFacet(v url.Values, name, value string) url.Values {
	u := cloneValues(v)
	u.Del("p")
	if name == "updated" {
		if facetActive(v, name, value) {
			u.Del("updated_from")
		} else {
			u.Set("updated_from", updatedFrom(value))
		}
		return u
	}
	var keep []string
	found := false
	for _, x := range v[name] {
		for _, p := range strings.Split(x, ",") {
			if p == value {
				found = true
			} else if p != "" {
				keep = append(keep, p)
			}
		}
	}
	if !found {
		keep = append(keep, value)
	}
	u.Del(name)
	for _, k := range keep {
		u.Add(name, k)
	}
	return u
}

func facetLabel(name, value string) string {
	switch name {
	case "maturity", "transfer_modes", "ip_type", "ip_status", "status", "price_band", "updated", "type":
		return label(name, value)
	}
	return value
}

func filterLabel(param, value string) string {
	switch param {
	case "updated_from":
		return value + " 以来"
	case "updated_to":
		return value + " 以前"
	case "price_min":
		return "不低于 " + value + " 万元"
	case "price_max":
		return "不高于 " + value + " 万元"
	}
	return facetLabel(filterFacet(param), value)
}

var fieldLabels = map[string]string{
	"title": "标题", "summary": "摘要", "description": "描述", "institution": "机构", "team": "团队",
	"problem": "临床问题", "current_practice": "现有方案", "desired_outcome": "期望效果", "hospital": "医院",
	"department": "科室", "name": "名称", "expertise": "研究专长", "discipline": "学科", "profile": "简介",
}

// hitOf turns a search hit into what the result list shows: the title
// with its marks, up to two highlighted fragments of other fields, and
// badges.
func hitOf(h indexer.Hit) hitView {
	hv := hitView{URL: "/" + h.Kind.Plural() + "/" + url.PathEscape(h.ID), Kind: label("type", h.Kind),
		Title: template.HTML(template.HTMLEscapeString(h.Title))}
	if t := h.Highlights["title"]; len(t) > 0 {
		hv.Title = template.HTML(t[0])
	}
	fields := make([]string, 0, len(h.Highlights))
	for f := range h.Highlights {
		if f != "title" {
			fields = append(fields, f)
		}
	}
	order := map[string]int{"summary": 0, "description": 1, "problem": 1, "expertise": 1, "profile": 1}
	sort.Slice(fields, func(i, j int) bool {
		oi, oki := order[fields[i]]
		oj, okj := order[fields[j]]
		if !oki {
			oi = 5
		}
		if !okj {
			oj = 5
		}
		if oi != oj {
			return oi < oj
		}
		return fields[i] < fields[j]
	})
	for _, f := range fields {
		for _, frag := range h.Highlights[f] {
			if len(hv.Snippets) < 2 {
				hv.Snippets = append(hv.Snippets, snippet{Field: fieldLabels[f], Text: template.HTML(frag)})
			}
		}
	}
	fallback := ""
	switch r := h.Record.(type) {
	case *medmatch.Achievement:
		hv.Badges = append(hv.Badges, label("maturity", r.Maturity))
		if r.IP != nil && r.IP.Status != medmatch.IPNone {
			hv.Badges = append(hv.Badges, label("ip_type", r.IP.Type)+label("ip_status", r.IP.Status))
		}
		hv.Badges = append(hv.Badges, priceText(r.Price))
		hv.Meta = append(hv.Meta, r.Institution, r.Specialty)
		fallback = firstNonEmpty(r.Summary, r.Description)
	case *medmatch.ClinicalNeed:
		hv.Meta = append(hv.Meta, r.Hospital+" "+r.Department, r.Specialty)
		fallback = r.Problem
	case *medmatch.Team:
		hv.Meta = append(hv.Meta, r.Institution, strings.Join(r.Specialties, "、"))
		fallback = r.Expertise
	case *medmatch.Enterprise:
		hv.Meta = append(hv.Meta, r.Region, strings.Join(r.Fields, "、"))
		fallback = r.Profile
	case *medmatch.Demand:
		hv.Badges = append(hv.Badges, "预算 "+priceText(r.Budget))
		hv.Meta = append(hv.Meta, r.Specialty, strings.Join(r.Fields, "、"))
		fallback = r.Description
	}
	if len(hv.Snippets) == 0 && fallback != "" {
		hv.Snippets = append(hv.Snippets, snippet{Text: template.HTML(template.HTMLEscapeString(truncate(fallback, 120)))})
	}
	return hv
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
