package datafetch

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// Options configure Fetch.
type Options struct {
	// BaseURL is where the archives and their .md5 files are; DefaultBaseURL when empty.
	BaseURL string
	// Dir is the cache directory the set is unpacked into (as Dir/NAME); DefaultDir() when empty.
	Dir string
	// Client makes the requests; http.DefaultClient when nil.
	Client *http.Client
	// Logger receives what Fetch does; slog.Default() when nil.
	Logger *slog.Logger
	// Progress reports the download.
	Progress progress.Options
}

// DefaultDir is the cache directory: the user cache directory's cascade/datasets
// (~/.cache/cascade/datasets on Linux).
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory (%w): give a directory", err)
	}
	return filepath.Join(d, "cascade", "datasets"), nil
}

// DownloadError is a failed or interrupted request. Its message says how to install the set by
// hand, for machines without network access. Nothing was kept.
type DownloadError struct {
	URL string
	Err error
	// Manual says where to put the files by hand.
	Manual string
}

func (e *DownloadError) Error() string {
	return fmt.Sprintf("download %s: %v\n%s", e.URL, e.Err, e.Manual)
}

func (e *DownloadError) Unwrap() error { return e.Err }

// Fetch makes the data set called name available under the cache directory and returns its
// directory, the path the --data flag takes. A set already there is returned as it is; otherwise
// the archive is downloaded, checked against the published MD5 and unpacked, atomically (see the
// package documentation).
func Fetch(ctx context.Context, name string, opt Options) (string, error) {
	set, err := Lookup(name)
	if err != nil {
		return "", err
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	root := opt.Dir
	if root == "" {
		if root, err = DefaultDir(); err != nil {
			return "", err
		}
	}
	target := filepath.Join(root, set.Name)
	if ok, err := present(set, target); err != nil {
		return "", err
	} else if ok {
		log.Info("data set already in the cache", "dataset", set.Name, "dir", target)
		return target, nil
	}
	base := opt.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	url := strings.TrimSuffix(base, "/") + "/" + set.Archive
	manual := fmt.Sprintf("Without network access: download %s and %s.md5 on another machine, compare the archive's MD5 "+
		"with the .md5 file, and unzip the archive into %s (it unpacks to %s); then this command finds it there, and --data takes %s.",
		url, set.Archive, root, target, target)
	client := opt.Client
	if client == nil {
		client = http.DefaultClient
	}

	sumText, err := getText(ctx, client, url+".md5", 1<<10)
	if err != nil {
		return "", &DownloadError{URL: url + ".md5", Err: err, Manual: manual}
	}
	want, err := parseMD5(sumText, set.Archive)
	if err != nil {
		return "", fmt.Errorf("%s.md5: %w", url, err)
	}

	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("data set cache: %w", err)
	}
	part, err := os.CreateTemp(root, "."+set.Archive+".part-*")
	if err != nil {
		return "", fmt.Errorf("data set cache: %w", err)
	}
	defer os.Remove(part.Name())
	h := md5.New()
	log.Info("downloading", "dataset", set.Name, "url", url, "about", set.About)
	err = download(ctx, client, url, io.MultiWriter(part, h), opt.Progress, "download "+set.Archive)
	if cerr := part.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("data set cache: %w", cerr)
	}
	if err != nil {
		return "", &DownloadError{URL: url, Err: err, Manual: "Nothing was kept; run the command again. " + manual}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return "", &ChecksumError{URL: url, Want: want, Got: got}
	}
	log.Info("checksum verified", "dataset", set.Name, "md5", want)

	tmp, err := os.MkdirTemp(root, "."+set.Name+".unpack-*")
	if err != nil {
		return "", fmt.Errorf("data set cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	unpacked := filepath.Join(tmp, set.Name)
	if err := unzip(part.Name(), set.Root, unpacked); err != nil {
		return "", fmt.Errorf("%s: %w", url, err)
	}
	if f, err := dataset.Detect(unpacked); err != nil || f != set.Format {
		return "", fmt.Errorf("%s: the archive does not hold a %s data set (found %q, %v)", url, set.Format, f, err)
	}
	if err := os.Rename(unpacked, target); err != nil {
		// Another fetch may have finished first.
		if ok, _ := present(set, target); ok {
			return target, nil
		}
		return "", fmt.Errorf("data set cache: %w", err)
	}
	log.Info("unpacked", "dataset", set.Name, "dir", target)
	return target, nil
}

// present reports whether dir holds set already; a directory there without the set's files is an
// error (a partial copy by hand, or another program's directory).
func present(set Set, dir string) (bool, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("data set cache: %w", err)
	}
	if f, err := dataset.Detect(dir); err != nil || f != set.Format {
		return false, fmt.Errorf("%s exists but holds no %s data set (%v): complete or remove it", dir, set.Name, err)
	}
	return true, nil
}

// open sends a GET for url and returns the response of a 200.
func open(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "cascade-datafetch")
	resp, err := client.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the DownloadError already
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return resp, nil
}

// getText returns the body of url, at most limit bytes of it.
func getText(ctx context.Context, client *http.Client, url string, limit int64) (string, error) {
	resp, err := open(ctx, client, url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return string(b), err
}

// download streams the body of url to w, reporting progress in bytes under desc, and fails unless
// it receives the whole body (Content-Length, when the server sends one).
func download(ctx context.Context, client *http.Client, url string, w io.Writer, po progress.Options, desc string) error {
	resp, err := open(ctx, client, url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rep := progress.New(desc+" (bytes)", resp.ContentLength, po)
	defer rep.Finish()
	n, err := io.Copy(w, reader{resp.Body, rep})
	if err != nil {
		return fmt.Errorf("interrupted after %d bytes: %w", n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("interrupted after %d of %d bytes", n, resp.ContentLength)
	}
	return nil
}

// reader reports what it reads to a progress reporter.
type reader struct {
	r   io.Reader
	rep *progress.Reporter
}

func (r reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.rep.Add(n)
	return n, err
}
