// Package api is medmatch's HTTP surface: the JSON API under /api/v1 and
// /healthz, served by echo. Handlers are thin: they turn HTTP into calls on
// the Store and the index, which enforce visibility and validation, and one
// error handler turns every error into {"error": {...}} with its status.
package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
)

// Body limits.
const (
	MaxRecordBytes = 1 << 20  // one record
	MaxImportBytes = 64 << 20 // one import file
)

// WriteWait bounds how long a write waits for the index to reflect it, so
// that a client that writes and then searches finds what it wrote.
const WriteWait = 2 * time.Second

// Config holds what the server needs.
type Config struct {
	Store  medmatch.Store
	Logger *slog.Logger
	// Instance identifies this server process; GET /api/v1/server returns
	// it so the CLI can tell a live server from a stale address file.
	Instance string
	// LocalToken, when set, is accepted as an admin key. The server writes
	// it into the data dir (mode 0600) so CLI commands run by the same user
	// can act through the server.
	LocalToken string
	// SessionSecret signs the web pages' sign-in cookies; replicas that
	// share it accept each other's sessions. Empty: a random secret, so
	// sessions end with the process.
	SessionSecret []byte
	// Demo offers one-click demo accounts on the sign-in page (serve
	// --demo); their sessions are refused by a server without Demo.
	Demo bool
}

// Server is the HTTP API. Create it with New, then SetIndex when the index
// is ready; until then only /healthz and /api/v1/server answer.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	log     *slog.Logger
	index   atomic.Pointer[indexer.Index]
	matcher atomic.Pointer[matcher.Matcher]
	ready   atomic.Bool
	secret  []byte
	pages   *pages
}

// New returns a server over cfg.Store.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, secret: cfg.SessionSecret}
	if len(s.secret) == 0 {
		s.secret = newSecret()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.Recover())
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(s.authenticate)

	e.GET("/healthz", s.healthz)
	e.GET("/api/v1/server", s.serverInfo)
	e.GET("/metrics", s.metrics)
	// Route middleware, not group middleware: an echo group with middleware
	// answers every unknown path below it with 404, hiding 405s.
	ready := s.requireReady
	const v1 = "/api/v1"
	e.GET(v1+"/search", s.search, ready)
	e.GET(v1+"/suggest", s.suggest, ready)
	for _, k := range medmatch.Kinds {
		base, kind := v1+"/"+k.Plural(), kindOf(k)
		e.GET(base, s.list, ready, kind)
		e.POST(base, s.create, ready, kind, middleware.BodyLimit("1M"))
		e.GET(base+"/:id", s.get, ready, kind)
		e.PUT(base+"/:id", s.replace, ready, kind, middleware.BodyLimit("1M"))
		e.PATCH(base+"/:id", s.patch, ready, kind, middleware.BodyLimit("1M"))
		e.DELETE(base+"/:id", s.delete, ready, kind)
	}
	for _, k := range []medmatch.Kind{medmatch.KindDemand, medmatch.KindAchievement, medmatch.KindNeed} {
		e.GET(v1+"/"+k.Plural()+"/:id/matches", s.matchRecord, ready, kindOf(k))
	}
	e.POST(v1+"/match", s.matchText, ready, middleware.BodyLimit("64K"))
	e.POST(v1+"/feedback", s.feedback, ready, middleware.BodyLimit("64K"))
	e.POST(v1+"/admin/train", s.train, ready, middleware.BodyLimit("16M"))
	e.GET(v1+"/admin/models", s.models, ready)
	e.POST(v1+"/admin/models/:name/:version/activate", s.activate, ready)
	e.GET(v1+"/events", s.events, ready)
	e.POST(v1+"/events", s.createEvent, ready, middleware.BodyLimit("4M"))
	e.GET(v1+"/events/:id", s.event, ready)
	e.PUT(v1+"/events/:id", s.replaceEvent, ready, middleware.BodyLimit("4M"))
	e.POST(v1+"/events/:id/plan", s.planEventAPI, ready)
	e.GET(v1+"/events/:id/plan", s.eventPlan, ready)
	e.GET(v1+"/events/:id/export", s.exportEvent, ready)
	e.GET(v1+"/events/:id/agenda", s.agenda, ready)
	e.POST(v1+"/import", s.importFile, ready, middleware.BodyLimit("64M"))
	e.POST(v1+"/keys", s.createKey, ready, middleware.BodyLimit("64K"))
	e.POST(v1+"/admin/reindex", s.reindex, ready)
	e.GET(v1+"/admin/quality", s.quality, ready)
	e.GET(v1+"/admin/duplicates", s.duplicates, ready)
	s.registerPages(e)
	s.echo = e
	return s
}

// Handler returns the http.Handler of the server.
func (s *Server) Handler() http.Handler { return s.echo }

// SetIndex installs the search index and the matcher over it and marks
// the server ready.
func (s *Server) SetIndex(ix *indexer.Index, m *matcher.Matcher) {
	s.index.Store(ix)
	s.matcher.Store(m)
	s.ready.Store(true)
}

// Ready reports whether the server serves the API.
func (s *Server) Ready() bool { return s.ready.Load() }

func kindOf(k medmatch.Kind) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set("kind", k)
			return next(c)
		}
	}
}

func (s *Server) requireReady(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.ready.Load() {
			c.Response().Header().Set("Retry-After", "1")
			return medmatch.Errorf(medmatch.EUNAVAILABLE, "", "the server is starting (loading data or catching up the index); retry shortly")
		}
		return next(c)
	}
}

const (
	viewerKey  = "viewer"
	sessionKey = "session"
)

// authenticate turns "Authorization: Bearer KEY" into the request's viewer.
// No header means an anonymous viewer; an unknown key is a 401, never a
// silent downgrade to anonymous.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" {
			v, ss, err := s.cookieViewer(c)
			if err != nil {
				return err
			}
			if ss != nil {
				if err := s.checkCSRF(c, ss); err != nil {
					return err
				}
				c.Set(sessionKey, ss)
			}
			c.Set(viewerKey, v)
			return next(c)
		}
		scheme, secret, ok := strings.Cut(h, " ")
		secret = strings.TrimSpace(secret)
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return medmatch.Errorf(medmatch.EUNAUTHORIZED, "Authorization", "want the header Authorization: Bearer KEY")
		}
		if s.cfg.LocalToken != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.LocalToken)) == 1 {
			c.Set(viewerKey, medmatch.Viewer{Role: medmatch.RoleAdmin, KeyID: "local-cli"})
			return next(c)
		}
		k, err := s.cfg.Store.KeyByHash(c.Request().Context(), medmatch.HashKey(secret))
		if medmatch.ErrorCode(err) == medmatch.ENOTFOUND {
			return medmatch.Errorf(medmatch.EUNAUTHORIZED, "Authorization", "unknown API key")
		} else if err != nil {
			return err
		}
		c.Set(viewerKey, k.Viewer())
		return next(c)
	}
}

func viewer(c echo.Context) medmatch.Viewer {
	v, _ := c.Get(viewerKey).(medmatch.Viewer)
	return v
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		s.log.LogAttrs(req.Context(), slog.LevelDebug, "request",
			slog.String("method", req.Method), slog.String("path", req.URL.Path),
			slog.Int("status", c.Response().Status), slog.Duration("took", time.Since(start)),
			slog.String("id", c.Response().Header().Get(echo.HeaderXRequestID)))
		return nil
	}
}

// statuses maps error codes to HTTP statuses.
var statuses = map[string]int{
	medmatch.EINVALID:       http.StatusBadRequest,
	medmatch.EUNAUTHORIZED:  http.StatusUnauthorized,
	medmatch.EFORBIDDEN:     http.StatusForbidden,
	medmatch.ENOTFOUND:      http.StatusNotFound,
	medmatch.EMETHOD:        http.StatusMethodNotAllowed,
	medmatch.ECONFLICT:      http.StatusConflict,
	medmatch.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	medmatch.EUNSUPPORTED:   http.StatusUnsupportedMediaType,
	medmatch.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	medmatch.EUNAVAILABLE:   http.StatusServiceUnavailable,
	medmatch.ETRIMMED:       http.StatusConflict,
	medmatch.EINTERNAL:      http.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status for err.
func ErrorStatus(err error) int {
	if st, ok := statuses[medmatch.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// fromEcho turns echo's own errors (unknown route, wrong method, body too
// large) into domain errors.
func fromEcho(he *echo.HTTPError) *medmatch.Error {
	switch he.Code {
	case http.StatusNotFound:
		return medmatch.Errorf(medmatch.ENOTFOUND, "", "no such endpoint")
	case http.StatusMethodNotAllowed:
		return medmatch.Errorf(medmatch.EMETHOD, "", "method not allowed on this endpoint")
	case http.StatusRequestEntityTooLarge:
		return medmatch.Errorf(medmatch.ETOOLARGE, "body", "request body is too large")
	case http.StatusUnsupportedMediaType:
		return medmatch.Errorf(medmatch.EUNSUPPORTED, "Content-Type", "unsupported media type")
	case http.StatusUnauthorized:
		return medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "unauthorized")
	case http.StatusBadRequest:
		return medmatch.Errorf(medmatch.EINVALID, "", "bad request")
	}
	if he.Code >= 500 {
		return nil
	}
	return medmatch.Errorf(medmatch.EINVALID, "", "%s", http.StatusText(he.Code))
}

// handleError is the one place errors become responses: the client gets the
// code, a safe message and the field; internal errors are logged with the
// request id and answered with "Internal error.".
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if me := fromEcho(he); me != nil {
			err = me
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = medmatch.Errorf(medmatch.EUNAVAILABLE, "", "the request took too long")
	}
	code := medmatch.ErrorCode(err)
	if code == medmatch.EINTERNAL {
		s.log.Error("internal error", "err", err, "method", c.Request().Method, "path", c.Request().URL.Path,
			"id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	body := &medmatch.Error{Code: code, Message: medmatch.ErrorMessage(err)}
	var me *medmatch.Error
	if errors.As(err, &me) {
		body.Field, body.Details = me.Field, me.Details
	}
	status := ErrorStatus(err)
	if isPagePath(c.Request().URL.Path) {
		s.pageError(c, status, body)
		return
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="medmatch"`)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, map[string]any{"error": body})
}
