package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medmatch/medmatch/internal/redistest"
)

// lockedBuffer is a log buffer the child process writes while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// replica is one `medmatch serve` process on a shared Redis.
type replica struct {
	t    *testing.T
	bin  string
	dir  string
	env  []string
	cmd  *exec.Cmd
	logs *lockedBuffer
	addr string
	tok  string
}

func (r *replica) start(demo bool) {
	r.t.Helper()
	args := []string{"serve", "--data", r.dir, "--addr", "127.0.0.1:0", "--log-level", "info"}
	if demo {
		args = append(args, "--demo")
	}
	r.logs = &lockedBuffer{}
	r.cmd = exec.Command(r.bin, args...)
	r.cmd.Env = append(os.Environ(), r.env...)
	r.cmd.Stderr, r.cmd.Stdout = r.logs, r.logs
	os.Remove(filepath.Join(r.dir, serverFileName))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("replica in %s did not become ready:\n%s", r.dir, r.logs)
		}
		info := readServerFile(r.dir)
		if info == nil || info.PID != r.cmd.Process.Pid {
			continue
		}
		res, err := http.Get("http://" + info.Addr + "/healthz")
		if err != nil {
			continue
		}
		res.Body.Close()
		if res.StatusCode == 200 {
			r.addr, r.tok = info.Addr, info.Token
			return
		}
	}
}

func (r *replica) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = r.cmd.Process.Wait()
}

func (r *replica) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	_, _ = r.cmd.Process.Wait()
}

func (r *replica) create(title string) string {
	r.t.Helper()
	body := fmt.Sprintf(`{"title":%q,"description":"多副本同步测试用成果，%s。","institution":"东岚医科大学附属第一医院","specialty":"神经","fields":["医疗器械"],"maturity":"prototype"}`, title, title)
	req, _ := http.NewRequest("POST", "http://"+r.addr+"/api/v1/achievements", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+r.tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ ID string }
	if res.StatusCode != 201 || json.NewDecoder(res.Body).Decode(&out) != nil {
		r.t.Fatalf("create on %s: %d", r.addr, res.StatusCode)
	}
	return out.ID
}

// finds reports whether a search for q on r returns id.
func (r *replica) finds(q, id string) bool {
	res, err := http.Get("http://" + r.addr + "/api/v1/search?highlight=false&limit=5&q=" + url.QueryEscape(q))
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var out struct{ Hits []struct{ ID string } }
	if json.NewDecoder(res.Body).Decode(&out) != nil {
		return false
	}
	for _, h := range out.Hits {
		if h.ID == id {
			return true
		}
	}
	return false
}

// TestReplicas runs two `serve` processes on one real Redis: a write
// through either is searchable on the other within 2 s; a replica killed
// with SIGKILL catches up on restart without rebuilding its index.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two servers")
	}
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	bin := filepath.Join(t.TempDir(), "medmatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	env := []string{"REDIS_URL=" + srv.URL()}
	a := &replica{t: t, bin: bin, dir: t.TempDir(), env: env}
	b := &replica{t: t, bin: bin, dir: t.TempDir(), env: env}
	a.start(true) // loads the demo catalogue into Redis
	t.Cleanup(a.stop)
	b.start(false)
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			b.stop()
		}
	})
	if !b.finds("脑起搏器", "ach-0001") {
		t.Fatalf("replica B does not find the demo catalogue loaded through A:\n%s", b.logs)
	}

	// Write on one, search on the other.
	var lat []time.Duration
	for i := range 20 {
		from, to := a, b
		if i%2 == 1 {
			from, to = b, a
		}
		title := fmt.Sprintf("跨副本可见性测试器械第%d号", i)
		id := from.create(title)
		start := time.Now()
		for !to.finds(title, id) {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("write %d (%s) through %s not searchable on %s after 2 s", i, id, from.addr, to.addr)
			}
			time.Sleep(5 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("write-to-searchable on the other replica: p50 %v, max %v (20 writes)", lat[len(lat)/2], lat[len(lat)-1])

	// Kill B, write through A, restart B: it catches up from its
	// checkpoint, without a rebuild.
	b.kill()
	var missed []string
	for i := range 5 {
		missed = append(missed, a.create(fmt.Sprintf("副本离线期间写入的成果%d", i)))
	}
	b.start(false)
	for i, id := range missed {
		if !b.finds(fmt.Sprintf("副本离线期间写入的成果%d", i), id) {
			t.Errorf("restarted replica B does not find %s written while it was down", id)
		}
	}
	if strings.Contains(b.logs.String(), "rebuilding") {
		t.Errorf("replica B rebuilt its index after a restart:\n%s", b.logs)
	}

	// Redis goes away: the replicas answer 503 with a JSON error (never a
	// 500 or a hang), and recover by themselves when it is back.
	srv.Kill()
	for _, path := range []string{"/healthz", "/api/v1/achievements/ach-0001"} {
		res, err := http.Get("http://" + a.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body := new(bytes.Buffer)
		body.ReadFrom(res.Body)
		res.Body.Close()
		if res.StatusCode != 503 {
			t.Errorf("GET %s with Redis down: %d %s; want 503", path, res.StatusCode, body)
		}
	}
	srv.Restart()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := http.Get("http://" + a.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica A did not recover after Redis came back:\n%s", a.logs)
		}
	}
	id := a.create("Redis恢复后写入的成果")
	for start := time.Now(); !b.finds("Redis恢复后写入的成果", id); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("after Redis came back, a write through A is not searchable on B:\n%s", b.logs)
		}
	}
}
