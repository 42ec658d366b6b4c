// Package params owns the typed error a parameter validation returns: FieldError names the field
// at fault by its YAML key, so that whoever holds the file — the pipeline, with its line numbers —
// can point at the line without reading the message.
//
// A Validate method returns a FieldError (or errors.Join of several) whose Path is the key
// relative to the struct it validates ("factors", "hidden[1]"). A caller that embeds the struct
// in a larger document lifts the error with Prefix ("models.ials.params" + "alpha"), and Fields
// gives back every FieldError of a joined or wrapped error.
package params
