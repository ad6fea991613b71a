package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/medmatch/medmatch"
)

// events answers GET /api/v1/events: the events the viewer may read.
func (s *Server) events(c echo.Context) error {
	list, err := s.cfg.Store.Events(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list, "total": len(list)})
}

func (s *Server) event(c echo.Context) error {
	e, err := s.cfg.Store.Event(c.Request().Context(), viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func decodeEvent(c echo.Context) (*medmatch.Event, error) {
	body, err := readJSON(c)
	if err != nil {
		return nil, err
	}
	var e medmatch.Event
	if err := medmatch.DecodeJSON(body, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// createEvent answers POST /api/v1/events (organizers).
func (s *Server) createEvent(c echo.Context) error {
	e, err := decodeEvent(c)
	if err != nil {
		return err
	}
	if e.Version != 0 {
		return medmatch.Errorf(medmatch.EINVALID, "version", "a new event has no version; PUT /api/v1/events/{id} replaces one")
	}
	if err := s.cfg.Store.PutEvent(c.Request().Context(), viewer(c), e); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

// replaceEvent answers PUT /api/v1/events/:id with the event's current
// version: organizers edit it, an invited enterprise its own invitation.
func (s *Server) replaceEvent(c echo.Context) error {
	e, err := decodeEvent(c)
	if err != nil {
		return err
	}
	if e.ID != "" && e.ID != c.Param("id") {
		return medmatch.Errorf(medmatch.EINVALID, "id", "the body's id %q is not the path's %q", e.ID, c.Param("id"))
	}
	e.ID = c.Param("id")
	if e.Version == 0 {
		return medmatch.Errorf(medmatch.EINVALID, "version", "send the version you read, so that concurrent edits are not lost")
	}
	if err := s.cfg.Store.PutEvent(c.Request().Context(), viewer(c), e); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}
