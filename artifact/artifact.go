// Package artifact owns the on-disk container of every trained model: a header naming the model
// kind and its format version, a length-prefixed payload, and a SHA-256 checksum, so that a
// truncated, corrupt or foreign file is refused with a clear error instead of being half-read.
//
// Layout: magic "CASCADE\x00", uvarint len(kind), kind, uvarint version, uint64 LE payload
// length, payload, 32-byte SHA-256 of everything before it. Payloads are written with Encoder and
// read with Decoder (little-endian, length-prefixed slices). Every model saves and loads through
// its Format (Format.Save and Load), so that all of them return the file's checksum and refuse a
// bad file the same way.
package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

const magic = "CASCADE\x00"

// ErrCorrupt is wrapped by every error about a damaged or foreign file.
var ErrCorrupt = errors.New("corrupt model artifact")

// Header describes an artifact.
type Header struct {
	Kind    string // e.g. "ials", "popularity", "twotower"
	Version int    // the kind's payload format version
}

// Marshal frames payload with the header and checksum.
func Marshal(h Header, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write(binary.AppendUvarint(nil, uint64(len(h.Kind))))
	b.WriteString(h.Kind)
	b.Write(binary.AppendUvarint(nil, uint64(h.Version)))
	b.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(payload))))
	b.Write(payload)
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes()
}

// Unmarshal checks data's framing and checksum and returns its header and payload.
func Unmarshal(data []byte) (Header, []byte, error) {
	var h Header
	if len(data) < len(magic)+sha256.Size || string(data[:len(magic)]) != magic {
		return h, nil, fmt.Errorf("%w: not a Cascade artifact (bad magic or too short: %d bytes)", ErrCorrupt, len(data))
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	p := data[len(magic):]
	kl, n := binary.Uvarint(p)
	if n <= 0 || kl > 256 || uint64(len(p)-n) < kl {
		return h, nil, fmt.Errorf("%w: bad kind field", ErrCorrupt)
	}
	h.Kind = string(p[n : n+int(kl)])
	p = p[n+int(kl):]
	v, n := binary.Uvarint(p)
	if n <= 0 || v > math.MaxInt32 {
		return h, nil, fmt.Errorf("%w: bad version field", ErrCorrupt)
	}
	h.Version = int(v)
	p = p[n:]
	if len(p) < 8 {
		return h, nil, fmt.Errorf("%w: truncated header", ErrCorrupt)
	}
	plen := binary.LittleEndian.Uint64(p)
	p = p[8:]
	if uint64(len(p)) != plen+sha256.Size {
		return h, nil, fmt.Errorf("%w: payload is %d bytes, header says %d (truncated or padded file)", ErrCorrupt, len(p)-sha256.Size, plen)
	}
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return h, nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return h, p[:plen], nil
}

// WriteFile writes an artifact atomically (temporary file + rename) and returns the hex SHA-256
// of the file, for manifests.
func WriteFile(path string, h Header, payload []byte) (string, error) {
	data := Marshal(h, payload)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return "", fmt.Errorf("write artifact: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write artifact %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write artifact %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write artifact %s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%x", sum), nil
}

// ReadFile reads and checks the artifact at path; it refuses a kind other than want and a
// version above maxVersion.
func ReadFile(path, want string, maxVersion int) (Header, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Header{}, nil, fmt.Errorf("read artifact: %w", err)
	}
	h, p, err := Unmarshal(data)
	if err != nil {
		return h, nil, fmt.Errorf("%s: %w", path, err)
	}
	if h.Kind != want {
		return h, nil, fmt.Errorf("%s: %w: holds a %q model, want %q", path, ErrCorrupt, h.Kind, want)
	}
	if h.Version < 1 || h.Version > maxVersion {
		return h, nil, fmt.Errorf("%s: %q format version %d is not supported (this build reads 1..%d)", path, h.Kind, h.Version, maxVersion)
	}
	return h, p, nil
}

// Format is an artifact kind and the payload format version this build writes (and the newest
// it reads): each model package declares its one Format and saves and loads through it.
type Format struct {
	Kind    string
	Version int
}

// Save is the one way a model writes itself, behind every model's
// Save(path string) (checksum string, err error): put encodes the payload, which is written to
// path as an artifact of f's kind and version (atomically, see WriteFile). It returns the file's
// hex SHA-256, for manifests. An encoding error (see Encoder.Err) writes nothing. Errors read
// "save <kind> model: …".
func (f Format) Save(path string, put func(e *Encoder)) (string, error) {
	var e Encoder
	put(&e)
	if e.err != nil {
		return "", fmt.Errorf("save %s model: %w", f.Kind, e.err)
	}
	sum, err := WriteFile(path, Header{Kind: f.Kind, Version: f.Version}, e.Bytes())
	if err != nil {
		return "", fmt.Errorf("save %s model: %w", f.Kind, err)
	}
	return sum, nil
}

// Load is the one way a model reads itself back: it reads and checks the artifact of f's kind at
// path (versions 1 … f.Version, see ReadFile) and returns what decode makes of its payload. A
// payload decode refuses is damaged or inconsistent, so decode's error is returned wrapping
// ErrCorrupt. Errors read "load <kind> model …".
func Load[T any](path string, f Format, decode func(payload []byte) (T, error)) (T, error) {
	var zero T
	_, payload, err := ReadFile(path, f.Kind, f.Version)
	if err != nil {
		return zero, fmt.Errorf("load %s model: %w", f.Kind, err)
	}
	v, err := decode(payload)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return zero, fmt.Errorf("load %s model %s: %w", f.Kind, path, err)
	}
	return v, nil
}

// Encoder appends little-endian values to a payload. Like Decoder, its first error sticks (only
// JSON can fail): later writes are still appended, Err reports it, and Save writes nothing.
type Encoder struct {
	buf []byte
	err error
}

// Err returns the first encoding error.
func (e *Encoder) Err() error { return e.err }

// Bytes returns the encoded payload.
func (e *Encoder) Bytes() []byte { return e.buf }

func (e *Encoder) Uint64(v uint64)   { e.buf = binary.LittleEndian.AppendUint64(e.buf, v) }
func (e *Encoder) Int(v int)         { e.Uint64(uint64(int64(v))) }
func (e *Encoder) Float64(v float64) { e.Uint64(math.Float64bits(v)) }
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}
func (e *Encoder) String(s string)      { e.Int(len(s)); e.buf = append(e.buf, s...) }
func (e *Encoder) Float32s(v []float32) { appendWords(e, v) }
func (e *Encoder) Float64s(v []float64) { appendList(e, v, e.Float64) }
func (e *Encoder) Int32s(v []int32)     { appendWords(e, v) }
func (e *Encoder) Strings(v []string)   { appendList(e, v, e.String) }

// JSON writes v's JSON encoding as a String. Models store their parameters or configuration this
// way, by field name rather than by position. A value JSON cannot encode is the Encoder's error.
func (e *Encoder) JSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return
	}
	e.String(string(b))
}

// appendList writes the length of v and each element with put.
func appendList[T any](e *Encoder, v []T, put func(T)) {
	e.Int(len(v))
	for _, x := range v {
		put(x)
	}
}

// appendWords writes the length of v and its 4-byte little-endian words.
func appendWords[T float32 | int32](e *Encoder, v []T) {
	e.Int(len(v))
	e.buf, _ = binary.Append(e.buf, binary.LittleEndian, v) // fails only for types T excludes
}

// Decoder reads what Encoder wrote. The first error sticks: later reads return zero values, and
// Err reports it, so callers check once at the end.
type Decoder struct {
	p   []byte
	err error
}

// NewDecoder reads payload p.
func NewDecoder(p []byte) *Decoder { return &Decoder{p: p} }

// Err returns the first decoding error; it also reports unread trailing bytes.
func (d *Decoder) Err() error {
	if d.err == nil && len(d.p) != 0 {
		return fmt.Errorf("%w: %d unexpected trailing bytes", ErrCorrupt, len(d.p))
	}
	return d.err
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.p) {
		d.err = fmt.Errorf("%w: payload ends early (want %d bytes, have %d)", ErrCorrupt, n, len(d.p))
		return nil
	}
	b := d.p[:n]
	d.p = d.p[n:]
	return b
}

func (d *Decoder) Uint64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}
func (d *Decoder) Int() int         { return int(int64(d.Uint64())) }
func (d *Decoder) Float64() float64 { return math.Float64frombits(d.Uint64()) }
func (d *Decoder) Bool() bool {
	b := d.take(1)
	return b != nil && b[0] == 1
}

// length reads a slice length and checks that size bytes per element remain.
func (d *Decoder) length(size int) int {
	n := d.Int()
	if d.err == nil && (n < 0 || n > len(d.p)/size) {
		d.err = fmt.Errorf("%w: slice length %d exceeds the remaining payload", ErrCorrupt, n)
		return 0
	}
	return n
}
func (d *Decoder) String() string      { return string(d.take(d.length(1))) }
func (d *Decoder) Float32s() []float32 { return readWords[float32](d) }
func (d *Decoder) Float64s() []float64 { return readList(d, d.Float64) }
func (d *Decoder) Int32s() []int32     { return readWords[int32](d) }

// readWords reads what appendWords wrote.
func readWords[T float32 | int32](d *Decoder) []T {
	n := d.length(4)
	b := d.take(4 * n)
	if b == nil {
		return nil
	}
	v := make([]T, n)
	binary.Decode(b, binary.LittleEndian, v) // b holds exactly len(v) words
	return v
}
func (d *Decoder) Strings() []string { return readList(d, d.String) }

// readList reads what appendList wrote, each element with get; every element takes at least 8
// bytes (a float64, or a string's length).
func readList[T any](d *Decoder, get func() T) []T {
	n := d.length(8)
	v := make([]T, 0, n)
	for range n {
		v = append(v, get())
	}
	return v
}
