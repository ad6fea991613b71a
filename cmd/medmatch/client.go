package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/medmatch/medmatch"
)

// client calls a running medmatch server.
type client struct {
	base  string
	token string
	http  *http.Client
}

func newClient(addr, token string) *client {
	return &client{base: "http://" + addr, token: token, http: &http.Client{Timeout: 10 * time.Minute}}
}

// do sends a request and decodes a JSON answer into out. Error answers
// become *medmatch.Error with the server's code, message and field.
func (c *client) do(ctx context.Context, method, path string, body io.Reader, contentType string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("call %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer of %s: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error *medmatch.Error `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != nil {
			if out != nil && resp.StatusCode == http.StatusUnprocessableEntity {
				_ = json.Unmarshal(data, out)
			}
			return e.Error
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if raw, ok := out.(*[]byte); ok { // the body as it is (exports)
		*raw = data
		return nil
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer of %s: %w", c.base, err)
		}
	}
	return nil
}
