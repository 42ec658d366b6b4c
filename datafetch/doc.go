// Package datafetch downloads the public MovieLens data sets from GroupLens into a local cache, so
// that a new user has real data in one command (`cascade data fetch ml-100k`).
//
// Fetch downloads the official archive (files.grouplens.org, or a mirror), checks it against the
// MD5 sum GroupLens publishes beside it (ARCHIVE.zip.md5), unpacks it into a temporary directory
// next to the cache and renames that into place, so the cache never holds a partial or unverified
// set: a failed download, a checksum mismatch or an unsafe archive leave nothing behind. A set
// already in the cache, fetched earlier or unpacked there by hand, is used without the network.
// Download failures (*DownloadError) say where to put the files by hand on an offline machine.
//
// The data itself is licensed by GroupLens (research use; see each archive's README) and never
// enters the repository.
package datafetch
