"""`python -m sandbox`: start the sandbox bank."""

from sandbox.serveur import main

if __name__ == "__main__":
    main()
