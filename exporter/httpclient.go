package exporter

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/groq-exporter/groq_exporter/groq"
	"github.com/groq-exporter/groq_exporter/internal/safefile"
)

// idleConnTimeout is how long a connection to Groq is kept open unused:
// longer than the cache TTL, so that refreshes reuse it.
const idleConnTimeout = 90 * time.Second

// newHTTPClient builds the client that carries an organization's requests
// (the groq.Client adds the key): as hc says, or without it through the
// proxy and CAs of the environment (HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE,
// SSL_CERT_DIR), as any Go program does.
//
// A tls_config whose files cannot be read or used yet (a Kubernetes Secret
// mounted late, a certificate being replaced) does not stop the
// organization: the client is built anyway, its requests fail with
// groq.ErrTLSFile naming the file, nothing is sent, and the first request
// after the files are fixed builds the real transport, which
// prometheus/common then keeps reading the files for. pending is that first
// problem, for the log; err is a configuration that cannot work at all.
func newHTTPClient(hc *commonconfig.HTTPClientConfig) (client *http.Client, pending, err error) {
	cfg := commonconfig.DefaultHTTPClientConfig
	cfg.ProxyFromEnvironment = true
	if hc != nil {
		cfg = *hc
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	t := &tlsFiles{cfg: cfg}
	if pending = t.problem(); pending == nil {
		if t.rt, err = t.newRoundTripper(); err != nil {
			return nil, nil, err
		}
	}
	client = &http.Client{Transport: t}
	if !cfg.FollowRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return client, pending, nil
}

// newRoundTripper builds prometheus/common's transport for t.cfg, with the
// files of its tls_config given as references that t reads (Fetch), so that
// the reads prometheus/common makes for every request never block, are
// bounded, and end with the request's deadline.
func (t *tlsFiles) newRoundTripper() (http.RoundTripper, error) {
	cfg := t.cfg
	tc := &cfg.TLSConfig
	for _, f := range []struct{ file, ref *string }{{&tc.CAFile, &tc.CARef}, {&tc.CertFile, &tc.CertRef}, {&tc.KeyFile, &tc.KeyRef}} {
		if *f.file != "" {
			*f.ref, *f.file = *f.file, ""
		}
	}
	return commonconfig.NewRoundTripperFromConfig(cfg, Name, commonconfig.WithUserAgent(version.ComponentUserAgent(Name)),
		commonconfig.WithIdleConnTimeout(idleConnTimeout), commonconfig.WithSecretManager(t))
}

// Fetch reads a file of the tls_config for prometheus/common (see
// newRoundTripper) as the exporter reads every file: a regular file of at
// most maxTLSFile bytes, without blocking, within ctx's deadline. Its
// error names the file.
func (t *tlsFiles) Fetch(ctx context.Context, file string) (string, error) {
	b, err := safefile.Read(ctx, file, maxTLSFile)
	if err != nil {
		return "", &TLSFileError{Field: t.field(file), File: file, Err: err}
	}
	return strings.TrimSpace(string(b)), nil // as prometheus/common reads a file
}

// tlsFiles is the transport of an organization: prometheus/common's, built
// once the files of the tls_config can be used, and until then an error
// naming the file on every request.
type tlsFiles struct {
	cfg commonconfig.HTTPClientConfig
	mu  sync.Mutex
	rt  http.RoundTripper // nil until the files can be used
}

// TLSFileError is a file of an organization's tls_config that cannot be
// read or used: nothing is sent until it can. It wraps groq.ErrTLSFile.
type TLSFileError struct {
	Field, File string // e.g. "ca_file", "/etc/ssl/corp/ca.pem"
	Err         error
}

func (e *TLSFileError) Error() string {
	if e.File == "" { // the files together, e.g. a certificate and a key that do not match
		return fmt.Sprintf("tls_config: %v; nothing was sent", e.Err)
	}
	return fmt.Sprintf("tls_config %s %s %v; nothing was sent", e.Field, e.File, e.Err)
}

func (e *TLSFileError) Unwrap() []error { return []error{groq.ErrTLSFile, e.Err} }

// problem returns why the files of the tls_config cannot be used, or nil:
// each file must be a regular file that can be read, and together they
// must make a TLS configuration (a CA that parses, a certificate that
// matches its key).
func (t *tlsFiles) problem() error {
	if err := t.unreadable(); err != nil {
		return err
	}
	if tc := &t.cfg.TLSConfig; tc.CAFile == "" && tc.CertFile == "" && tc.KeyFile == "" {
		return nil
	}
	if _, err := commonconfig.NewTLSConfig(&t.cfg.TLSConfig); err != nil {
		return &TLSFileError{Err: err}
	}
	return nil
}

// unreadable returns the first file of the tls_config that is not a regular
// file that can be read within the bound and the deadline, or nil.
func (t *tlsFiles) unreadable() error {
	tc := &t.cfg.TLSConfig
	for _, f := range []struct{ field, file string }{{"ca_file", tc.CAFile}, {"cert_file", tc.CertFile}, {"key_file", tc.KeyFile}} {
		if f.file == "" {
			continue
		}
		if err := readable(f.file); err != nil {
			return &TLSFileError{Field: f.field, File: f.file, Err: err}
		}
	}
	return nil
}

// maxTLSFile bounds a CA bundle, certificate or key file.
const maxTLSFile = 1 << 20

// readable checks that file is a regular file that can be read, without
// blocking (safefile: a FIFO or a hung file system is refused, not waited
// for). Its error completes a sentence that starts with the file's name.
func readable(file string) error {
	_, err := safefile.Read(context.Background(), file, maxTLSFile)
	return err
}

func (t *tlsFiles) RoundTrip(r *http.Request) (*http.Response, error) {
	rt, err := t.transport()
	if err != nil {
		return nil, err
	}
	// prometheus/common reads the files again for every request, through
	// Fetch (newRoundTripper); checking them first says which file is wrong
	// before anything else is tried.
	if err := t.unreadable(); err != nil {
		return nil, err
	}
	resp, err := rt.RoundTrip(r)
	var perr *fs.PathError
	if err != nil && errors.As(err, &perr) && t.names(perr.Path) {
		// prometheus/common reads the files again for each request: one
		// removed after the start is the same trouble as one not there yet.
		err = &TLSFileError{Field: t.field(perr.Path), File: perr.Path, Err: fmt.Errorf("cannot be read: %w", perr.Err)}
	}
	return resp, err
}

// transport returns the transport of prometheus/common, building it first
// if the files were not usable so far.
func (t *tlsFiles) transport() (http.RoundTripper, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rt != nil {
		return t.rt, nil
	}
	if err := t.problem(); err != nil {
		return nil, err
	}
	rt, err := t.newRoundTripper()
	if err != nil {
		return nil, &TLSFileError{Err: err}
	}
	t.rt = rt
	return rt, nil
}

func (t *tlsFiles) names(file string) bool { return t.field(file) != "" }

func (t *tlsFiles) field(file string) string {
	switch tc := &t.cfg.TLSConfig; file {
	case "":
		return ""
	case tc.CAFile:
		return "ca_file"
	case tc.CertFile:
		return "cert_file"
	case tc.KeyFile:
		return "key_file"
	}
	return ""
}

// CloseIdleConnections closes the idle connections of the transport, if
// it was built.
func (t *tlsFiles) CloseIdleConnections() {
	t.mu.Lock()
	rt := t.rt
	t.mu.Unlock()
	if ci, ok := rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
