package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// writeJSON writes v, indented, to path: the file a subcommand's --json flag names.
func (g *Globals) writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--json: %w", err)
	}
	g.Log.Info("wrote results", "file", path)
	return nil
}
