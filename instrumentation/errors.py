"""The one error the jobs' computations raise for bad data; the CLI turns it into exit code 2."""


class DataProblem(ValueError):
    """Input data the jobs cannot score honestly (missing column, empty window, all-NaN ...).

    The message is one line, already phrased for the user, and names the column.
    """
