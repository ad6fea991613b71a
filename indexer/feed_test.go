package indexer_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/storetest"
)

// TestResumeAndTrimmedCheckpoint: a reopened index applies only the changes
// made while it was closed; one whose checkpoint the store compacted away
// rebuilds from the store and says so in its log.
func TestResumeAndTrimmedCheckpoint(t *testing.T) {
	e := open(t, false)
	ctx := context.Background()
	inst := "东岚医科大学附属第一医院"
	if _, err := e.store.Create(ctx, organizer, storetest.Achievement("ach-1", inst)); err != nil {
		t.Fatal(err)
	}
	if err := e.ix.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	checkpoint := e.ix.Applied()
	e.ix.Close()

	// Written while the index is closed.
	if _, err := e.store.Create(ctx, organizer, storetest.Achievement("ach-2", inst)); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ix, err := indexer.Open(ctx, indexer.Dir(e.dir), e.store, indexer.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := ix.DocCount(); n != 2 || ix.Applied() != checkpoint+1 {
		t.Fatalf("reopened index has %d docs at %d; want 2 at %d", n, ix.Applied(), checkpoint+1)
	}
	if strings.Contains(logs.String(), "index built") || ix.Built() {
		t.Fatalf("reopening rebuilt the index:\n%s", logs.String())
	}
	if !e.ix.Built() {
		t.Fatal("the first Open built the index but Built() is false")
	}
	ix.Close()

	// More writes, and the feed compacted past the closed index's checkpoint
	// (as when a replica was gone longer than the feed is kept).
	if _, err := e.store.Create(ctx, organizer, storetest.Achievement("ach-3", inst)); err != nil {
		t.Fatal(err)
	}
	head, _ := e.store.Head(ctx)
	if err := e.store.Ack(ctx, "index", head); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Create(ctx, organizer, storetest.Achievement("ach-4", inst)); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	ix, err = indexer.Open(ctx, indexer.Dir(e.dir), e.store, indexer.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !strings.Contains(logs.String(), "compacted") || !strings.Contains(logs.String(), "index built") {
		t.Fatalf("logs:\n%s\nwant a rebuild that says the checkpoint was compacted", logs.String())
	}
	if n, _ := ix.DocCount(); n != 4 {
		t.Fatalf("rebuilt index has %d docs; want 4", n)
	}
	h2, _ := e.store.Head(ctx)
	if ix.Applied() != h2 {
		t.Fatalf("applied %d; want head %d", ix.Applied(), h2)
	}
}

// TestRebuildWhileSearching: searches keep answering while the index is
// rebuilt and swapped (run with -race).
func TestRebuildWhileSearching(t *testing.T) {
	e := open(t, true)
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := e.ix.Search(ctx, anon, indexer.Request{Query: "脑起搏器"})
				if err != nil {
					errs <- err
					return
				}
				if len(res.Hits) == 0 || res.Hits[0].ID != "ach-0001" {
					errs <- &medmatch.Error{Code: medmatch.EINTERNAL, Message: "ach-0001 not first during rebuild"}
					return
				}
			}
		}()
	}
	for range 2 {
		if err := e.ix.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestMappingVersionRebuild: an index built by another mapping version is
// rebuilt from the store on open.
func TestMappingVersionRebuild(t *testing.T) {
	e := open(t, true)
	e.ix.Close()
	idx, err := bleve.Open(indexer.Dir(e.dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.SetInternal([]byte("medmatch.mapping"), []byte("0")); err != nil {
		t.Fatal(err)
	}
	idx.Close()
	var logs bytes.Buffer
	ix, err := indexer.Open(context.Background(), indexer.Dir(e.dir), e.store, indexer.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !strings.Contains(logs.String(), "another mapping or dictionary version") || !strings.Contains(logs.String(), "index built") {
		t.Fatalf("logs:\n%s\nwant a rebuild for the mapping version", logs.String())
	}
	if n, _ := ix.DocCount(); n < 590 {
		t.Fatalf("rebuilt index has %d docs; want the whole demo catalogue", n)
	}
}
