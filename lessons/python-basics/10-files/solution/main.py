def save_notes(filename, notes):
    with open(filename, "w") as file:
        for note in notes:
            file.write(note + "\n")


def load_notes(filename):
    notes = []
    with open(filename) as file:
        for line in file:
            notes.append(line.strip())
    return notes


if __name__ == "__main__":
    notes = ["Buy milk", "Call Grandma", "Practice Python"]
    save_notes("notes.txt", notes)
    print(f"Saved {len(notes)} notes to notes.txt")

    loaded = load_notes("notes.txt")
    for number, note in enumerate(loaded, start=1):
        print(f"{number}. {note}")
