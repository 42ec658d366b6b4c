package history

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
)

// The log file: a header line, then records of
//
//	uint32 LE payload length | uint32 LE CRC-32C of the payload | payload
//
// with payload = uvarint len(user) | user | uvarint len(item) | item | varint time | float32 LE
// value (NaN: none). A batch of records is written with one write(2); a crash can leave a
// partial record only at the end. Every record checks itself (length in range, checksum,
// payload that decodes), so a reader that meets a damaged one can find the next good one by
// trying each following offset: see scanner.
const (
	logHeader     = "CASCADE-EVENTS-1\n"
	headerPrefix  = "CASCADE-EVENTS-" // the header of any version of the format
	recordHeader  = 8
	minPayload    = 7 // two empty IDs, a one-byte time, the value
	maxPayload    = 1 << 16
	maxBatchBytes = 4 << 20 // one group commit writes at most this much
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func appendRecord(buf []byte, e Event) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, recordHeader)...)
	buf = binary.AppendUvarint(buf, uint64(len(e.User)))
	buf = append(buf, e.User...)
	buf = binary.AppendUvarint(buf, uint64(len(e.Item)))
	buf = append(buf, e.Item...)
	buf = binary.AppendVarint(buf, e.Time)
	buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(e.Value))
	payload := buf[start+recordHeader:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, crcTable))
	return buf
}

// parsePayload splits a payload into its fields without copying them.
func parsePayload(p []byte) (user, item []byte, t int64, v float32, err error) {
	str := func() ([]byte, bool) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return nil, false
		}
		s := p[k : k+int(n)]
		p = p[k+int(n):]
		return s, true
	}
	var ok bool
	if user, ok = str(); !ok {
		return nil, nil, 0, 0, errors.New("bad user field")
	}
	if item, ok = str(); !ok {
		return nil, nil, 0, 0, errors.New("bad item field")
	}
	t, k := binary.Varint(p)
	if k <= 0 || len(p)-k != 4 {
		return nil, nil, 0, 0, errors.New("bad time or value field")
	}
	return user, item, t, math.Float32frombits(binary.LittleEndian.Uint32(p[k:])), nil
}

// decodeRecord returns the event of a record that passed the scanner's checks.
func decodeRecord(rec []byte) Event {
	user, item, t, v, _ := parsePayload(rec[recordHeader:])
	return Event{User: string(user), Item: string(item), Time: t, Value: v}
}

// recordUser returns the user ID bytes of a checked record.
func recordUser(rec []byte) []byte {
	user, _, _, _, _ := parsePayload(rec[recordHeader:])
	return user
}

// errShort marks a record cut by the end of the file: what a crash during a write leaves.
var errShort = errors.New("record cut short by the end of the file")

// damage is a run of bytes that holds no valid record.
type damage struct {
	off, n int64
	reason string
	torn   bool // a single record cut by the end of the file (a crash mid-write), not corruption
}

// scanner reads the records of a log from an offset, resynchronising past damage: when the
// bytes at an offset are not a valid record, it tries each following offset until a whole
// record passes every check (length in range, CRC-32C, a payload that decodes). A false match
// needs a random length in range and a matching 32-bit checksum. A damaged run followed by a
// valid record is reported to onDamage; one that reaches the end of the file is the tail.
type scanner struct {
	r        *bufio.Reader
	off      int64 // offset of the next unread byte
	onDamage func(damage)

	// After next returns true: the record's raw bytes (valid until the next call; decodeRecord
	// gives its event) and offset.
	rec []byte
	at  int64
	// After next returns false: the bytes after the last valid record that hold none (nil: a
	// clean end), and a read error other than the end of the file.
	tail *damage
	err  error
}

func newScanner(r io.Reader, off int64, onDamage func(damage)) *scanner {
	return &scanner{r: bufio.NewReaderSize(r, 1<<20), off: off, onDamage: onDamage}
}

// next advances to the next valid record.
func (s *scanner) next() bool {
	var bad *damage
	for {
		rec, err := s.try()
		if err == nil {
			if bad != nil {
				bad.n = s.off - bad.off
				if s.onDamage != nil {
					s.onDamage(*bad)
				}
			}
			s.rec, s.at = rec, s.off
			s.r.Discard(len(rec))
			s.off += int64(len(rec))
			return true
		}
		if err == io.EOF {
			if bad != nil {
				bad.n = s.off - bad.off
				s.tail = bad
			}
			return false
		}
		if errors.Is(err, errRead) {
			s.err = err
			return false
		}
		if bad == nil {
			bad = &damage{off: s.off, reason: err.Error(), torn: err == errShort}
		}
		s.r.Discard(1)
		s.off++
	}
}

var errRead = errors.New("read error")

// try checks for a whole valid record at the reader's position without consuming it; io.EOF
// means no byte is left.
func (s *scanner) try() ([]byte, error) {
	h, err := s.r.Peek(recordHeader)
	if len(h) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	if len(h) < recordHeader {
		return nil, shortOr(err)
	}
	n := int(binary.LittleEndian.Uint32(h))
	if n < minPayload || n > maxPayload {
		return nil, errors.New("record length out of range")
	}
	rec, err := s.r.Peek(recordHeader + n)
	if len(rec) < recordHeader+n {
		return nil, shortOr(err)
	}
	payload := rec[recordHeader:]
	if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(rec[4:]) {
		return nil, errors.New("checksum mismatch")
	}
	if _, _, _, _, err := parsePayload(payload); err != nil {
		return nil, err
	}
	return rec, nil
}

func shortOr(err error) error {
	if err == nil || err == io.EOF {
		return errShort
	}
	return errors.Join(errRead, err)
}
