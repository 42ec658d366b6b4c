package dataset

import (
	"errors"
	"strings"
)

// loadMLLatest reads MovieLens latest (CSV): ratings.csv, and when present movies.csv (genres,
// the year from the title) and tags.csv (a "tags" attribute, lower-cased, each tag once per item).
func (b *builder) loadMLLatest() error {
	path := b.path("ratings.csv")
	err := b.eachCSVFile(path, "load ml-latest", []string{"userId", "movieId", "rating", "timestamp"}, func(n int, f []string) error {
		return b.addEvent(path, n, f[0], f[1], f[3], f[2], 0, unixSeconds)
	})
	if err != nil {
		return err
	}
	if p := b.path("movies.csv"); exists(p) {
		a, genres, year := b.movieAttrs()
		err := b.eachCSVFile(p, "load ml-latest movies", []string{"movieId", "title", "genres"}, func(n int, f []string) error {
			if f[0] == "" {
				return b.bad(p, n, "movieId", errors.New("empty"))
			}
			b.addMovie(a, genres, year, f[0], f[1], f[2])
			return nil
		})
		if err != nil {
			return err
		}
	}
	if p := b.path("tags.csv"); exists(p) {
		a := b.itemAttrs()
		tags := a.categorical("tags")
		return b.eachCSVFile(p, "load ml-latest tags", []string{"movieId", "tag"}, func(n int, f []string) error {
			id, tag := f[0], strings.ToLower(strings.TrimSpace(f[1]))
			if id == "" {
				return b.bad(p, n, "movieId", errors.New("empty"))
			}
			if tag != "" {
				a.addUnique(tags, b.items.Add(id), tag)
			}
			return nil
		})
	}
	return nil
}
