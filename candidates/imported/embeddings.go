package imported

// readNumpy reads the item matrix and, when given, the user matrix of format npy, each with its
// IDs file (line n names row n).
func readNumpy(p Params) (items, users *factorTable, err error) {
	if items, err = npyTable("items", p.Items, "item_ids", p.ItemIDs); err != nil {
		return nil, nil, err
	}
	if p.Users == "" {
		return items, nil, nil
	}
	if users, err = npyTable("users", p.Users, "user_ids", p.UserIDs); err != nil {
		return nil, nil, err
	}
	if users.k != items.k {
		return nil, nil, fileErr("users", p.Users, nil, "header field shape: %d columns, and items %s has %d (user and item vectors must have the same size)", users.k, p.Items, items.k)
	}
	return items, users, nil
}

func npyTable(param, path, idsParam, idsPath string) (*factorTable, error) {
	m, err := readNPY(param, path)
	if err != nil {
		return nil, err
	}
	ids, err := readIDs(idsParam, idsPath)
	if err != nil {
		return nil, err
	}
	if len(ids) != m.rows {
		return nil, fileErr(idsParam, idsPath, nil, "has %d IDs, and %s %s has %d rows (one ID per row, in row order)", len(ids), param, path, m.rows)
	}
	return &factorTable{param: param, file: path, keys: ids, vecs: m.data, k: m.cols}, nil
}
