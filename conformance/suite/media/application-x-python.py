"""Print the sample word."""


def word() -> str:
    return "MANGO"


if __name__ == "__main__":
    print(word())
