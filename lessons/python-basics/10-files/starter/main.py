# Lesson 10: Files


def save_notes(filename, notes):
    # Write each note to the file, one per line.
    # Tip: with open(filename, "w") as file:
    #          file.write(... + "\n")
    pass


def load_notes(filename):
    # Read the file and return a list of its lines, without the "\n" at the end.
    notes = []
    return notes


# This part runs only when you press Run.
if __name__ == "__main__":
    notes = ["Buy milk", "Call Grandma", "Practice Python"]
    save_notes("notes.txt", notes)
    print(f"Saved {len(notes)} notes to notes.txt")

    loaded = load_notes("notes.txt")
    # Print each loaded note with its number, like:  1. Buy milk
