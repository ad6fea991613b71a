// Package bolt is the embedded Store: every record, the change feed and the
// API keys in one bbolt file in the data dir. bbolt takes an exclusive file
// lock, so one process owns the data dir; Open fails at once (not after a
// wait) when another holds it.
package bolt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/medmatch/medmatch"
)

// FileName is the store file inside the data dir.
const FileName = "medmatch.db"

// schemaVersion is written on creation; Open refuses files of another version.
const schemaVersion = "1"

var (
	bucketMeta      = []byte("meta")
	bucketChanges   = []byte("changes")
	bucketConsumers = []byte("consumers")
	bucketKeys      = []byte("keys")
	bucketCounts    = []byte("counts")
	bucketRefs      = []byte("refs") // enterprise id \x00 demand id
	keySchema       = []byte("schema")
	keyTrimmed      = []byte("trimmed") // highest compacted sequence number
)

func recBucket(k medmatch.Kind) []byte { return []byte("rec:" + string(k)) }
func extBucket(k medmatch.Kind) []byte { return []byte("ext:" + string(k)) }

// Store is the bbolt implementation of medmatch.Store.
type Store struct {
	db  *bbolt.DB
	tax *medmatch.Taxonomy
	now func() time.Time

	head    atomic.Uint64
	mu      sync.Mutex
	changed chan struct{} // closed and replaced after each commit that appended changes
}

var _ medmatch.Store = (*Store)(nil)

// Options configure Open.
type Options struct {
	// Taxonomy validates specialties and fields. Required.
	Taxonomy *medmatch.Taxonomy
	// Now returns the time for timestamps; time.Now when nil.
	Now func() time.Time
	// ReadOnly opens the file with a shared lock (several readers at once).
	ReadOnly bool
}

// ErrLocked is returned (wrapped in a *medmatch.Error with code ECONFLICT)
// when another process holds the data dir.
var ErrLocked = errors.New("data dir locked by another process")

// Open opens or creates the store in dir. It returns an ECONFLICT error
// wrapping ErrLocked at once when another process holds the file.
func Open(dir string, opt Options) (*Store, error) {
	if opt.Taxonomy == nil {
		return nil, fmt.Errorf("bolt.Open: no taxonomy")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bolt.Open: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		// Timeout makes a held lock an error instead of a hang.
		Timeout:      100 * time.Millisecond,
		FreelistType: bbolt.FreelistMapType,
		ReadOnly:     opt.ReadOnly,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &lockedError{dir: dir}
	} else if err != nil {
		return nil, fmt.Errorf("bolt.Open(%q): %w", path, err)
	}
	s := &Store{db: db, tax: opt.Taxonomy, now: opt.Now, changed: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	if !opt.ReadOnly {
		err = db.Update(func(tx *bbolt.Tx) error {
			names := [][]byte{bucketMeta, bucketChanges, bucketConsumers, bucketKeys, bucketCounts, bucketRefs,
				bucketFeedback, bucketArtifactInfo, bucketArtifactData, bucketArtifactHead, bucketEvents}
			for _, k := range medmatch.Kinds {
				names = append(names, recBucket(k), extBucket(k))
			}
			for _, n := range names {
				if _, err := tx.CreateBucketIfNotExists(n); err != nil {
					return err
				}
			}
			meta := tx.Bucket(bucketMeta)
			switch v := meta.Get(keySchema); {
			case v == nil:
				return meta.Put(keySchema, []byte(schemaVersion))
			case string(v) != schemaVersion:
				return fmt.Errorf("store schema %s, this binary reads %s", v, schemaVersion)
			}
			return nil
		})
	}
	if err == nil {
		err = db.View(func(tx *bbolt.Tx) error {
			if b := tx.Bucket(bucketChanges); b != nil {
				s.head.Store(b.Sequence())
			}
			return nil
		})
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt.Open(%q): %w", path, err)
	}
	return s, nil
}

type lockedError struct{ dir string }

func (e *lockedError) Error() string {
	return fmt.Sprintf("data dir %s is in use by another process", e.dir)
}
func (e *lockedError) Unwrap() []error {
	return []error{ErrLocked, &medmatch.Error{Code: medmatch.ECONFLICT, Field: "data", Message: e.Error()}}
}

// Close closes the file and releases the lock.
func (s *Store) Close() error { return s.db.Close() }

// Path is the store file's path.
func (s *Store) Path() string { return s.db.Path() }

func notFound(k medmatch.Kind, id string) error {
	return medmatch.Errorf(medmatch.ENOTFOUND, "id", "no %s %q", k, id)
}

func decode(k medmatch.Kind, data []byte) (medmatch.Record, error) {
	r := medmatch.NewRecord(k)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k, err)
	}
	return r, nil
}

func get(tx *bbolt.Tx, k medmatch.Kind, id string) (medmatch.Record, error) {
	data := tx.Bucket(recBucket(k)).Get([]byte(id))
	if data == nil {
		return nil, nil
	}
	return decode(k, data)
}

// Get implements medmatch.Store.
func (s *Store) Get(ctx context.Context, v medmatch.Viewer, k medmatch.Kind, id string) (medmatch.Record, error) {
	if !k.Valid() {
		return nil, medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", k)
	}
	var r medmatch.Record
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		r, err = get(tx, k, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if r == nil || !medmatch.CanRead(v, r) {
		return nil, notFound(k, id)
	}
	return medmatch.Redact(v, r), nil
}

// GetMany implements medmatch.Store.
func (s *Store) GetMany(ctx context.Context, v medmatch.Viewer, refs []medmatch.Ref) ([]medmatch.Record, error) {
	out := make([]medmatch.Record, len(refs))
	err := s.db.View(func(tx *bbolt.Tx) error {
		for i, ref := range refs {
			if !ref.Kind.Valid() {
				continue
			}
			r, err := get(tx, ref.Kind, ref.ID)
			if err != nil {
				return err
			}
			if r != nil && medmatch.CanRead(v, r) {
				out[i] = medmatch.Redact(v, r)
			}
		}
		return nil
	})
	return out, err
}

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte("id:" + id)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !bytes.HasPrefix(b, []byte("id:")) {
		return "", medmatch.Errorf(medmatch.EINVALID, "cursor", "is not a cursor from a previous page")
	}
	return string(b[3:]), nil
}

// List implements medmatch.Store. It walks the kind's records in id order
// from the cursor, skipping those v may not read; Total comes from counters
// kept per audience, so it costs no scan.
func (s *Store) List(ctx context.Context, v medmatch.Viewer, k medmatch.Kind, opt medmatch.ListOptions) (*medmatch.Page, error) {
	if !k.Valid() {
		return nil, medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", k)
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	var after string
	if opt.Cursor != "" {
		var err error
		if after, err = decodeCursor(opt.Cursor); err != nil {
			return nil, err
		}
	}
	page := &medmatch.Page{Records: []medmatch.Record{}}
	err := s.db.View(func(tx *bbolt.Tx) error {
		page.Total = total(tx, v, k)
		c := tx.Bucket(recBucket(k)).Cursor()
		var key, val []byte
		if after == "" {
			key, val = c.First()
		} else {
			key, val = c.Seek([]byte(after))
			if key != nil && string(key) == after {
				key, val = c.Next()
			}
		}
		for ; key != nil; key, val = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := decode(k, val)
			if err != nil {
				return err
			}
			if !medmatch.CanRead(v, r) {
				continue
			}
			if len(page.Records) == opt.Limit {
				page.NextCursor = encodeCursor(page.Records[len(page.Records)-1].Base().ID)
				break
			}
			page.Records = append(page.Records, medmatch.Redact(v, r))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

func count(b *bbolt.Bucket, key string) int {
	v := b.Get([]byte(key))
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

func bump(b *bbolt.Bucket, keys []string, delta int) error {
	for _, key := range keys {
		k := []byte(key)
		n := count(b, string(k)) + delta
		if n < 0 {
			return fmt.Errorf("counter %s below zero", k)
		}
		if n == 0 {
			if err := b.Delete(k); err != nil {
				return err
			}
			continue
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(n))
		if err := b.Put(k, buf[:]); err != nil {
			return err
		}
	}
	return nil
}

func total(tx *bbolt.Tx, v medmatch.Viewer, k medmatch.Kind) int {
	b := tx.Bucket(bucketCounts)
	return medmatch.VisibleTotal(v, k, func(key string) int { return count(b, key) })
}

// Counts implements medmatch.Store.
func (s *Store) Counts(ctx context.Context) (map[medmatch.Kind]int, error) {
	out := make(map[medmatch.Kind]int)
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, k := range medmatch.Kinds {
			out[k] = count(tx.Bucket(bucketCounts), string(k)+"|all")
		}
		return nil
	})
	return out, err
}
