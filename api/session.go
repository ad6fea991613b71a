package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/medmatch/medmatch"
)

// The web pages sign a user in with a cookie instead of the Authorization
// header. The cookie is stateless (so any replica that shares the secret
// accepts it): who the user acts as, the hash of the API key they signed
// in with (checked against the Store on every request, so a deleted key
// ends its sessions), a random nonce and an expiry, signed with
// HMAC-SHA256. Forms carry a CSRF token derived from the same cookie.
const (
	sessionCookie = "medmatch_session"
	// SessionTTL is how long a sign-in lasts.
	SessionTTL = 12 * time.Hour
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
)

type session struct {
	Role        medmatch.Role `json:"r"`
	Enterprise  string        `json:"e,omitempty"`
	Institution string        `json:"i,omitempty"`
	KeyID       string        `json:"k"`
	KeyHash     string        `json:"h,omitempty"` // empty for demo accounts
	Nonce       string        `json:"n"`
	Expires     int64         `json:"x"`
}

func (s *session) viewer() medmatch.Viewer {
	return medmatch.Viewer{Role: s.Role, Enterprise: s.Enterprise, Institution: s.Institution, KeyID: s.KeyID}
}

func newSecret() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func (s *Server) sign(payload []byte) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) encodeSession(ss *session) string {
	b, _ := json.Marshal(ss)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + s.sign([]byte(p))
}

// decodeSession returns the session of a cookie value, or nil when it is
// malformed, forged or expired.
func (s *Server) decodeSession(v string) *session {
	p, sig, ok := strings.Cut(v, ".")
	if !ok || subtle.ConstantTimeCompare([]byte(sig), []byte(s.sign([]byte(p)))) != 1 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil
	}
	var ss session
	if json.Unmarshal(b, &ss) != nil || time.Now().Unix() > ss.Expires {
		return nil
	}
	return &ss
}

// startSession signs the browser in as ss.
func (s *Server) startSession(c echo.Context, ss *session) {
	ss.Nonce = base64.RawURLEncoding.EncodeToString(newSecret()[:12])
	ss.Expires = time.Now().Add(SessionTTL).Unix()
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: s.encodeSession(ss), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https", MaxAge: int(SessionTTL / time.Second)})
}

func endSession(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// csrfToken is the token forms of a session carry: a MAC of its nonce.
func (s *Server) csrfToken(ss *session) string {
	if ss == nil {
		return ""
	}
	return s.sign([]byte("csrf:" + ss.Nonce))
}

// cookieViewer resolves the session cookie: the viewer, the session, and
// an error when the cookie names a key that no longer exists. A missing
// or invalid cookie is an anonymous viewer (the browser is told to drop
// it).
func (s *Server) cookieViewer(c echo.Context) (medmatch.Viewer, *session, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return medmatch.Viewer{}, nil, nil
	}
	ss := s.decodeSession(ck.Value)
	if ss == nil {
		endSession(c)
		return medmatch.Viewer{}, nil, nil
	}
	if ss.KeyHash == "" {
		if !s.cfg.Demo {
			endSession(c)
			return medmatch.Viewer{}, nil, nil
		}
		return ss.viewer(), ss, nil
	}
	k, err := s.cfg.Store.KeyByHash(c.Request().Context(), ss.KeyHash)
	if medmatch.ErrorCode(err) == medmatch.ENOTFOUND {
		endSession(c)
		return medmatch.Viewer{}, nil, nil
	} else if err != nil {
		return medmatch.Viewer{}, nil, err
	}
	return k.Viewer(), ss, nil
}

// checkCSRF guards a request authenticated by the session cookie: safe
// methods pass; others carry the session's token in the _csrf form field
// or the X-CSRF-Token header.
func (s *Server) checkCSRF(c echo.Context, ss *session) error {
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	tok := c.Request().Header.Get(csrfHeader)
	if tok == "" {
		ct := c.Request().Header.Get(echo.HeaderContentType)
		if strings.HasPrefix(ct, echo.MIMEApplicationForm) || strings.HasPrefix(ct, echo.MIMEMultipartForm) {
			tok = c.FormValue(csrfField)
		}
	}
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrfToken(ss))) != 1 {
		return medmatch.Errorf(medmatch.EFORBIDDEN, csrfField, "the form is out of date or was not sent from this site; reload the page and try again")
	}
	return nil
}
