package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/medmatch/medmatch"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed (I/O, server unreachable, data dir busy)
	exitUsage = 2 // bad input: unknown flag, bad value, rejected rows
)

// IO is a command's standard streams.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, io IO, args []string) error
}

var commands = []command{
	{"serve", "[flags]", "run the HTTP API (and load the demo catalogue with --demo)", runServe},
	{"import", "FILE [flags]", "import records from a JSONL or CSV file", runImport},
	{"search", "QUERY [flags]", "search the catalogue", runSearch},
	{"suggest", "PREFIX [flags]", "complete a search-box prefix (also pinyin)", runSuggest},
	{"reindex", "[flags]", "rebuild the search index from the store", runReindex},
	{"key", "add --role ROLE [flags]", "create an API key", runKey},
	{"bench", "[flags]", "measure import, indexing, search and restart on CSL-derived records", runBench},
}

// usageError is bad input from the user: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// Run runs the medmatch command line and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	std := IO{In: stdin, Out: stdout, Err: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			args = []string{args[1], "--help"}
		} else {
			usage(stdout)
			if len(args) == 0 {
				return exitUsage
			}
			return exitOK
		}
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, std, args[1:])
		return report(stderr, c.name, err)
	}
	fmt.Fprintf(stderr, "medmatch: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "medmatch — match medical technology achievements with enterprise demand")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  medmatch %-7s %-26s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --data DIR (env MEDMATCH_DATA, default ./data).")
	fmt.Fprintln(w, "Run `medmatch COMMAND --help` for a command's flags.")
}

// report prints err in one line and maps it to an exit code.
func report(w io.Writer, cmd string, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "medmatch %s: %s\n", cmd, ue.msg)
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(w, "medmatch %s: interrupted\n", cmd)
		return exitError
	}
	switch medmatch.ErrorCode(err) {
	case medmatch.EINVALID, medmatch.EUNSUPPORTED, medmatch.EUNPROCESSABLE, medmatch.ETOOLARGE:
		fmt.Fprintf(w, "medmatch %s: %s\n", cmd, describe(err))
		return exitUsage
	case medmatch.EINTERNAL:
		fmt.Fprintf(w, "medmatch %s: %v\n", cmd, err)
	default:
		fmt.Fprintf(w, "medmatch %s: %s\n", cmd, describe(err))
	}
	return exitError
}

func describe(err error) string {
	var me *medmatch.Error
	if errors.As(err, &me) {
		if me.Field != "" && !strings.HasPrefix(me.Message, me.Field) {
			return me.Field + ": " + me.Message
		}
		return me.Message
	}
	return err.Error()
}

// flags is a flag set whose --help lists the flags and extra text, and
// whose errors are usage errors.
func newFlags(name, args, about string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("medmatch "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: medmatch %s %s\n\n%s\n\nFlags:\n", name, args, strings.TrimSpace(about))
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before or after positional arguments
// (`medmatch import FILE --data D` works) and returns the positionals.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string // after "--", everything is positional
	for i, a := range args {
		if a == "--" {
			tail, args = args[i+1:], args[:i]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// common holds the flags every command has.
type common struct {
	data     string
	logLevel string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", envOr("MEDMATCH_DATA", "./data"), "data directory (env MEDMATCH_DATA)")
	fs.StringVar(&c.logLevel, "log-level", envOr("MEDMATCH_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env MEDMATCH_LOG_LEVEL)")
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usagef("--log-level: unknown level %q (want debug, info, warn, error)", c.logLevel)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func roles() string {
	s := make([]string, len(medmatch.Roles))
	for i, r := range medmatch.Roles {
		s[i] = string(r)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
