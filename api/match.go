package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/matcher"
)

// matchRecord answers GET /api/v1/{demands|achievements|needs}/:id/matches
// with ?target=achievements|teams|enterprises, limit and model.
func (s *Server) matchRecord(c echo.Context) error {
	k := c.Get("kind").(medmatch.Kind)
	limit, err := intParam(c, "limit")
	if err != nil {
		return err
	}
	if c.QueryParam("limit") != "" && limit == 0 {
		return medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and %d", matcher.MaxLimit)
	}
	req := matcher.Request{Source: &medmatch.Ref{Kind: k, ID: c.Param("id")}, Limit: limit, Model: c.QueryParam("model")}
	if t := c.QueryParam("target"); t != "" {
		if req.Target, err = medmatch.ParseKind("target", t); err != nil {
			return err
		}
	}
	return s.runMatch(c, req)
}

// matchBody is the body of POST /api/v1/match.
type matchBody struct {
	Text   string `json:"text"`
	Target string `json:"target"`
	Limit  int    `json:"limit"`
	Model  string `json:"model"`
}

// matchText answers POST /api/v1/match {"text", "target", "limit", "model"}.
func (s *Server) matchText(c echo.Context) error {
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	var b matchBody
	if err := medmatch.DecodeJSON(body, &b); err != nil {
		return err
	}
	req := matcher.Request{Text: b.Text, Limit: b.Limit, Model: b.Model}
	if b.Target != "" {
		if req.Target, err = medmatch.ParseKind("target", b.Target); err != nil {
			return err
		}
	}
	if b.Limit < 0 {
		return medmatch.Errorf(medmatch.EINVALID, "limit", "must be between 1 and %d", matcher.MaxLimit)
	}
	return s.runMatch(c, req)
}

func (s *Server) runMatch(c echo.Context, req matcher.Request) error {
	m := s.matcher.Load()
	if m == nil {
		return medmatch.Errorf(medmatch.EUNAVAILABLE, "", "the matcher is not running")
	}
	res, err := m.MatchCached(c.Request().Context(), viewer(c), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// feedback answers POST /api/v1/feedback {"source", "target", "action", "note"}.
func (s *Server) feedback(c echo.Context) error {
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	var f medmatch.Feedback
	if err := medmatch.DecodeJSON(body, &f); err != nil {
		return err
	}
	if f.ID != "" || f.By != "" || f.Principal != "" || !f.At.IsZero() {
		return medmatch.Errorf(medmatch.EINVALID, "id", "id, by, principal and at are set by the server")
	}
	if err := s.cfg.Store.AddFeedback(c.Request().Context(), viewer(c), &f); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, f)
}

// trainBody is the body of POST /api/v1/admin/train.
type trainBody struct {
	Labels   []matcher.RawLabel `json:"labels"`
	Semantic bool               `json:"semantic"`
	K        int                `json:"k"`
	MaxDocs  int                `json:"max_docs"`
	Note     string             `json:"note"`
}

// train answers POST /api/v1/admin/train: refit the semantic model (when
// asked or absent) and learn weights from the labels and the feedback.
func (s *Server) train(c echo.Context) error {
	v := viewer(c)
	if err := medmatch.CanManageArtifacts(v); err != nil {
		return err
	}
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	var b trainBody
	if len(body) > 0 {
		if err := medmatch.DecodeJSON(body, &b); err != nil {
			return err
		}
	}
	if b.MaxDocs < 0 {
		return medmatch.Errorf(medmatch.EINVALID, "max_docs", "must not be negative")
	}
	if b.K < 0 || b.K > matcher.MaxK {
		return medmatch.Errorf(medmatch.EINVALID, "k", "must be between 1 and %d", matcher.MaxK)
	}
	ctx := c.Request().Context()
	labels, err := matcher.ResolveLabels(ctx, s.cfg.Store, v, b.Labels)
	if err != nil {
		return err
	}
	rep, err := s.matcher.Load().Train(ctx, v, matcher.TrainRequest{Labels: labels, Semantic: b.Semantic, K: b.K, Note: b.Note, MaxDocs: b.MaxDocs})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}

// models answers GET /api/v1/admin/models: the versions of the semantic
// model and the weight sets, newest first, the active one marked.
func (s *Server) models(c echo.Context) error {
	if err := medmatch.CanManageArtifacts(viewer(c)); err != nil {
		return err
	}
	out := map[string][]medmatch.Artifact{}
	for _, name := range []string{matcher.ArtifactModel, matcher.ArtifactWeights} {
		list, err := s.cfg.Store.Artifacts(c.Request().Context(), name)
		if err != nil {
			return err
		}
		if list == nil {
			list = []medmatch.Artifact{}
		}
		out[name] = list
	}
	return c.JSON(http.StatusOK, out)
}

// activate answers POST /api/v1/admin/models/:name/:version/activate: a
// rollback (or roll forward) to a stored version.
func (s *Server) activate(c echo.Context) error {
	v := viewer(c)
	name := c.Param("name")
	if name != matcher.ArtifactModel && name != matcher.ArtifactWeights {
		return medmatch.Errorf(medmatch.ENOTFOUND, "name", "no model %q (want %s or %s)", name, matcher.ArtifactModel, matcher.ArtifactWeights)
	}
	ver, err := strconv.ParseInt(c.Param("version"), 10, 64)
	if err != nil || ver < 1 {
		return medmatch.Errorf(medmatch.EINVALID, "version", "must be a positive integer, got %q", c.Param("version"))
	}
	ctx := c.Request().Context()
	if err := s.cfg.Store.ActivateArtifact(ctx, v, name, ver); err != nil {
		return err
	}
	if err := s.matcher.Load().Reload(ctx); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"name": name, "active": ver})
}
