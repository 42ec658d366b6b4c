package dataset

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// loadGeneric reads the generic format: events.csv (user_id,item_id,timestamp[,value][,event];
// times in Unix seconds or RFC 3339; the event type column may be called event_type), and when
// present items.csv and users.csv (loadGenericAttrs).
func (b *builder) loadGeneric() error {
	path := b.path("events.csv")
	r, col, line, c, err := csvFile(path, "user_id", "item_id", "timestamp")
	if err != nil {
		return fmt.Errorf("load events: %w", err)
	}
	defer c.Close()
	u, i, t := col["user_id"], col["item_id"], col["timestamp"]
	v, hasValue := col["value"]
	typeCol := ""
	for name := range col {
		switch name {
		case "user_id", "item_id", "timestamp", "value":
		case "event", "event_type":
			if typeCol != "" {
				return &ParseError{File: path, Line: 1, Field: name, Err: errors.New("two event type columns (event and event_type): keep one")}
			}
			typeCol = name
		default:
			return &ParseError{File: path, Line: 1, Field: name, Err: errors.New("unknown column (events.csv has user_id,item_id,timestamp[,value][,event])")}
		}
	}
	if typeCol != "" {
		b.types = NewDict()
	}
	err = b.eachCSV(path, r, len(col), line, func(n int, rec []string) error {
		val := ""
		if hasValue {
			val = rec[v]
		}
		var typ uint8
		if typeCol != "" {
			k, ok, err := b.eventType(path, n, typeCol, strings.TrimSpace(rec[col[typeCol]]))
			if !ok {
				return err
			}
			typ = k
		}
		return b.addEvent(path, n, rec[u], rec[i], rec[t], val, typ, flexibleTime)
	})
	if err != nil {
		return err
	}
	if p := b.path("items.csv"); exists(p) {
		if err := b.loadGenericAttrs(p, "item_id", b.items, b.itemAttrs()); err != nil {
			return err
		}
	}
	if p := b.path("users.csv"); exists(p) {
		if err := b.loadGenericAttrs(p, "user_id", b.users, b.userAttrs()); err != nil {
			return err
		}
	}
	return nil
}

// loadGenericAttrs reads items.csv / users.csv: the ID column plus attribute columns. A column is
// numeric when every non-empty value parses as a number and none holds "|"; otherwise it is
// categorical, with "|" separating multiple values. A column named "title" is kept as the display
// name rather than an attribute.
func (b *builder) loadGenericAttrs(path, idCol string, ids *Dict, a *attrBuilder) error {
	r, col, line, c, err := csvFile(path, idCol)
	if err != nil {
		return fmt.Errorf("load attributes: %w", err)
	}
	defer c.Close()
	type row struct {
		n   int
		rec []string
	}
	var rows []row
	err = b.eachCSV(path, r, len(col), line, func(n int, rec []string) error {
		if rec[col[idCol]] == "" {
			return b.bad(path, n, idCol, errors.New("empty"))
		}
		rows = append(rows, row{n, slices.Clone(rec)})
		return nil
	})
	if err != nil {
		return err
	}
	names := make([]string, len(col))
	for name, i := range col {
		names[i] = name
	}
	for ci, name := range names {
		if name == idCol {
			continue
		}
		numeric := len(rows) > 0
		for _, r := range rows {
			v := r.rec[ci]
			if v == "" {
				continue
			}
			if _, err := strconv.ParseFloat(v, 64); err != nil || strings.Contains(v, "|") {
				numeric = false
				break
			}
		}
		isTitle := name == "title" && idCol == "item_id"
		var k int
		if !isTitle {
			if numeric {
				k = a.numeric(name)
			} else {
				k = a.categorical(name)
			}
		}
		for _, r := range rows {
			id := ids.Add(r.rec[col[idCol]])
			v := r.rec[ci]
			switch {
			case v == "":
			case isTitle:
				b.titles[id] = v
			case numeric:
				x, _ := strconv.ParseFloat(v, 32)
				a.set(k, id, float32(x))
			default:
				for _, part := range strings.Split(v, "|") {
					if part = strings.TrimSpace(part); part != "" {
						a.addUnique(k, id, part)
					}
				}
			}
		}
	}
	return nil
}
