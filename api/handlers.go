package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/curation"
	"github.com/medmatch/medmatch/importer"
	"github.com/medmatch/medmatch/indexer"
)

// healthz answers 200 when the server is ready (store readable, demo data
// loaded if asked, index caught up at start-up) and 503 otherwise. "lag" is
// how many changes the index has still to apply.
func (s *Server) healthz(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.cfg.Store.Counts(ctx); err != nil {
		s.log.Error("healthz: store", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "store unavailable"})
	}
	head, _ := s.cfg.Store.Head(ctx)
	ix := s.index.Load()
	if !s.ready.Load() || ix == nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "starting", "head": head})
	}
	applied := ix.Applied()
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "head": head, "applied": applied, "lag": head - min(head, applied)})
}

// metrics answers GET /metrics in the Prometheus text format: the shared
// match cache's counts and the index's lag behind the change feed.
func (s *Server) metrics(c echo.Context) error {
	var b strings.Builder
	counter := func(name, help string, v int64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	if m := s.matcher.Load(); m != nil {
		st := m.CacheStats()
		counter("medmatch_match_cache_hits_total", "Match results answered from the shared cache.", st.Hits)
		counter("medmatch_match_cache_misses_total", "Match results computed after a cache miss.", st.Misses)
		counter("medmatch_match_uncached_total", "Match results computed without the cache (no shared cache, or not cacheable).", st.Uncached)
	}
	if ix := s.index.Load(); ix != nil {
		head, err := s.cfg.Store.Head(c.Request().Context())
		if err == nil {
			applied := ix.Applied()
			fmt.Fprintf(&b, "# HELP medmatch_index_lag Changes of the feed this replica's index has still to apply.\n# TYPE medmatch_index_lag gauge\nmedmatch_index_lag %d\n", head-min(head, applied))
		}
	}
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(b.String()))
}

func (s *Server) serverInfo(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"instance": s.cfg.Instance, "ready": s.ready.Load()})
}

func intParam(c echo.Context, name string) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, medmatch.Errorf(medmatch.EINVALID, name, "must be an integer, got %q", v)
	}
	return n, nil
}

func boolParam(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, medmatch.Errorf(medmatch.EINVALID, name, "must be true or false, got %q", v)
	}
	return b, nil
}

// search answers GET /api/v1/search; indexer.ParseParams lists the
// parameters.
func (s *Server) search(c echo.Context) error {
	req, err := indexer.ParseParams(c.QueryParams())
	if err != nil {
		return err
	}
	res, err := s.index.Load().Search(c.Request().Context(), viewer(c), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// suggest answers GET /api/v1/suggest?q=PREFIX&limit=N with completions
// for the search box, visible to the viewer.
func (s *Server) suggest(c echo.Context) error {
	limit, err := intParam(c, "limit")
	if err != nil {
		return err
	}
	if c.QueryParam("limit") != "" && limit == 0 {
		return medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and %d", indexer.MaxSuggestLimit)
	}
	out, err := s.index.Load().Suggest(c.Request().Context(), viewer(c), c.QueryParam("q"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"suggestions": out})
}

// listPage is the shape of every list response.
type listPage struct {
	Items      []medmatch.Record `json:"items"`
	Total      int               `json:"total"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

func (s *Server) list(c echo.Context) error {
	k := c.Get("kind").(medmatch.Kind)
	limit, err := intParam(c, "limit")
	if err != nil {
		return err
	}
	if c.QueryParam("limit") != "" && limit == 0 {
		return medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and %d", medmatch.MaxLimit)
	}
	p, err := s.cfg.Store.List(c.Request().Context(), viewer(c), k, medmatch.ListOptions{Limit: limit, Cursor: c.QueryParam("cursor")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listPage{Items: p.Records, Total: p.Total, NextCursor: p.NextCursor})
}

func (s *Server) get(c echo.Context) error {
	k := c.Get("kind").(medmatch.Kind)
	r, err := s.cfg.Store.Get(c.Request().Context(), viewer(c), k, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// readJSON reads a JSON request body; the media type must be JSON.
func readJSON(c echo.Context) ([]byte, error) {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, medmatch.Errorf(medmatch.EUNSUPPORTED, "Content-Type", "want application/json, got %q", ct)
		}
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if tooLarge(err) {
			return nil, medmatch.Errorf(medmatch.ETOOLARGE, "body", "request body is larger than %d KB", MaxRecordBytes>>10)
		}
		return nil, medmatch.Errorf(medmatch.EINVALID, "body", "cannot read the request body")
	}
	return body, nil
}

func (s *Server) decode(c echo.Context) (medmatch.Record, error) {
	body, err := readJSON(c)
	if err != nil {
		return nil, err
	}
	return medmatch.DecodeRecord(c.Get("kind").(medmatch.Kind), body)
}

// settle waits (bounded) until the index reflects the store's latest
// change, so a client can search for what it just wrote.
func (s *Server) settle(ctx context.Context) {
	ix := s.index.Load()
	head, err := s.cfg.Store.Head(ctx)
	if ix == nil || err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, WriteWait)
	defer cancel()
	_ = ix.WaitFor(ctx, head)
}

func (s *Server) create(c echo.Context) error {
	r, err := s.decode(c)
	if err != nil {
		return err
	}
	r, err = s.cfg.Store.Create(c.Request().Context(), viewer(c), r)
	if err != nil {
		return err
	}
	s.settle(c.Request().Context())
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/%s/%s", r.Kind().Plural(), r.Base().ID))
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) replace(c echo.Context) error {
	r, err := s.decode(c)
	if err != nil {
		return err
	}
	if id := r.Base().ID; id != "" && id != c.Param("id") {
		return medmatch.Errorf(medmatch.EINVALID, "id", "body id %q differs from the path's %q", id, c.Param("id"))
	}
	r.Base().ID = c.Param("id")
	r, err = s.cfg.Store.Update(c.Request().Context(), viewer(c), r)
	if err != nil {
		return err
	}
	s.settle(c.Request().Context())
	return c.JSON(http.StatusOK, r)
}

// patch applies a JSON merge patch (RFC 7396) to the stored record. The
// version read is the version written, so a concurrent change makes the
// patch fail with 409 instead of being overwritten.
func (s *Server) patch(c echo.Context) error {
	k := c.Get("kind").(medmatch.Kind)
	ctx := c.Request().Context()
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	var p map[string]any
	if err := medmatch.DecodeJSON(body, &p); err != nil {
		return err
	}
	cur, err := s.cfg.Store.Get(ctx, viewer(c), k, c.Param("id"))
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(cur)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	if _, ok := p["version"]; !ok {
		p["version"] = cur.Base().Version
	}
	merged, _ := json.Marshal(mergePatch(doc, p))
	r, err := medmatch.DecodeRecord(k, merged)
	if err != nil {
		return err
	}
	r.Base().ID = c.Param("id")
	if r, err = s.cfg.Store.Update(ctx, viewer(c), r); err != nil {
		return err
	}
	s.settle(ctx)
	return c.JSON(http.StatusOK, r)
}

func mergePatch(doc, patch map[string]any) map[string]any {
	for k, v := range patch {
		if v == nil {
			delete(doc, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			if dm, ok := doc[k].(map[string]any); ok {
				doc[k] = mergePatch(dm, pm)
				continue
			}
			doc[k] = mergePatch(map[string]any{}, pm)
			continue
		}
		doc[k] = v
	}
	return doc
}

func (s *Server) delete(c echo.Context) error {
	k := c.Get("kind").(medmatch.Kind)
	if err := s.cfg.Store.Delete(c.Request().Context(), viewer(c), k, c.Param("id")); err != nil {
		return err
	}
	s.settle(c.Request().Context())
	return c.NoContent(http.StatusNoContent)
}

// importFile takes a JSONL or CSV file as the request body. The format comes
// from ?format= or the Content-Type; ?type= gives the kind of rows that do
// not name one; ?skip_invalid=true stores the good rows; ?dry_run=true
// only reports. A rejected all-or-nothing import answers 422 with the report.
func (s *Server) importFile(c echo.Context) error {
	v := viewer(c)
	if v.Anonymous() {
		return medmatch.CanWrite(v, nil, nil)
	}
	name := c.QueryParam("format")
	if name == "" {
		name = c.Request().Header.Get(echo.HeaderContentType)
	}
	if name == "" {
		return medmatch.Errorf(medmatch.EUNSUPPORTED, "format", "give ?format=jsonl|csv|xlsx or a Content-Type of application/x-ndjson, text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	f, err := importer.FormatOf(name)
	if err != nil {
		return err
	}
	opt := importer.Options{}
	if m := c.QueryParam("mapping"); m != "" {
		if err := json.Unmarshal([]byte(m), &opt.Mapping); err != nil {
			return medmatch.Errorf(medmatch.EINVALID, "mapping", "want a JSON object of column header → field, like {\"承担单位\":\"institution\"}")
		}
	}
	if t := c.QueryParam("type"); t != "" {
		if opt.Kind, err = medmatch.ParseKind("type", t); err != nil {
			return err
		}
	}
	if opt.CheckDuplicates, err = boolParam(c, "check_duplicates"); err != nil {
		return err
	}
	if opt.SkipInvalid, err = boolParam(c, "skip_invalid"); err != nil {
		return err
	}
	if opt.DryRun, err = boolParam(c, "dry_run"); err != nil {
		return err
	}
	file := c.QueryParam("name")
	if file == "" {
		file = "upload." + string(f)
	}
	rep, err := importer.Import(c.Request().Context(), s.cfg.Store, v, file, c.Request().Body, f, opt)
	if err != nil {
		if tooLarge(err) {
			return medmatch.Errorf(medmatch.ETOOLARGE, "body", "import file is larger than %d MB", MaxImportBytes>>20)
		}
		return err
	}
	if rep.Written {
		s.settle(c.Request().Context())
	}
	if rep.Rejected > 0 && !rep.Written && !rep.DryRun {
		probs := rep.Problems()
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{
			"error": &medmatch.Error{Code: medmatch.EUNPROCESSABLE, Field: strings.SplitN(probs[0], ": ", 2)[0],
				Message: fmt.Sprintf("%d row(s) rejected, nothing was written (first: %s); fix them or import with skip_invalid=true", rep.Rejected, probs[0])},
			"report": rep,
		})
	}
	return c.JSON(http.StatusOK, rep)
}

type keyRequest struct {
	Role        medmatch.Role `json:"role"`
	Enterprise  string        `json:"enterprise,omitempty"`
	Institution string        `json:"institution,omitempty"`
	Name        string        `json:"name,omitempty"`
}

// createKey makes an API key (admins only) and returns its secret, once.
func (s *Server) createKey(c echo.Context) error {
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	var kr keyRequest
	if err := medmatch.DecodeJSON(body, &kr); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if kr.Role == medmatch.RoleEnterprise && kr.Enterprise != "" {
		if _, err := s.cfg.Store.Get(ctx, medmatch.System, medmatch.KindEnterprise, kr.Enterprise); err != nil {
			return medmatch.Errorf(medmatch.EINVALID, "enterprise", "no enterprise %q", kr.Enterprise)
		}
	}
	k, secret, err := medmatch.NewKey(medmatch.Viewer{Role: kr.Role, Enterprise: kr.Enterprise, Institution: kr.Institution}, kr.Name, time.Now())
	if err != nil {
		return err
	}
	if err := s.cfg.Store.CreateKey(ctx, viewer(c), k); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"key": secret, "id": k.ID, "role": k.Role,
		"enterprise": k.Enterprise, "institution": k.Institution, "name": k.Name})
}

func (s *Server) reindex(c echo.Context) error {
	v := viewer(c)
	switch {
	case v.Anonymous():
		return medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "an admin key is needed to reindex")
	case v.Role != medmatch.RoleAdmin:
		return medmatch.Errorf(medmatch.EFORBIDDEN, "", "only admins reindex")
	}
	ix := s.index.Load()
	start := time.Now()
	if err := ix.Rebuild(c.Request().Context()); err != nil {
		return err
	}
	n, _ := ix.DocCount()
	return c.JSON(http.StatusOK, map[string]any{"docs": n, "seq": ix.Applied(), "took_ms": time.Since(start).Milliseconds()})
}

func tooLarge(err error) bool {
	var he *echo.HTTPError
	return errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge
}

// quality answers GET /api/v1/admin/quality?stale_months=&limit=: the
// data-quality report (staff); limit bounds the issues listed (default
// 1000), the counts cover every record.
func (s *Server) quality(c echo.Context) error {
	months, err := intParam(c, "stale_months")
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit")
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 1000
	}
	if limit < 0 || limit > 100000 {
		return medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and 100000")
	}
	if c.QueryParam("stale_months") != "" && months == 0 {
		return medmatch.Errorf(medmatch.EINVALID, "stale_months", "must be between 1 and 240")
	}
	rep, err := curation.Check(c.Request().Context(), s.cfg.Store, viewer(c), curation.Options{StaleMonths: months})
	if err != nil {
		return err
	}
	if len(rep.Issues) > limit {
		rep.Issues = rep.Issues[:limit]
	}
	return c.JSON(http.StatusOK, rep)
}

// duplicates answers GET /api/v1/admin/duplicates?limit=: suspected
// near-duplicate achievements and clinical needs, most similar first
// (staff).
func (s *Server) duplicates(c echo.Context) error {
	limit, err := intParam(c, "limit")
	if err != nil {
		return err
	}
	if c.QueryParam("limit") != "" && (limit < 1 || limit > 10000) {
		return medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and 10000")
	}
	if limit == 0 {
		limit = 100
	}
	pairs, err := curation.Duplicates(c.Request().Context(), s.cfg.Store, viewer(c))
	if err != nil {
		return err
	}
	total := len(pairs)
	if len(pairs) > limit {
		pairs = pairs[:limit]
	}
	return c.JSON(http.StatusOK, map[string]any{"pairs": pairs, "total": total, "threshold": curation.DupThreshold})
}
