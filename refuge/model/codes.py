"""Codes shared by the compiler and the engines: distribution kinds, the columns of the transition and arrival
tables, the kinds of rule signals and actions."""

# Distribution codes shared with the engines.
FIXED, EXPONENTIAL, GAMMA, LOGNORMAL, EMPIRICAL = 0, 1, 2, 3, 4
NONE = -1

# Columns of the transition table.
T_SRC, T_IS_DUR, T_RATE, T_DUR, T_DUR_A, T_DUR_B, T_DUR_EMP, T_GRP, T_GRP_A, T_GRP_B, T_GRP_EMP, \
    T_REDIR, T_REDIR_EDGE, T_EDGE_LO, T_EDGE_HI, T_CAP, T_CAP_DAYS = range(17)
T_COLS = 17  # T_CAP: parameter slot of the processing capacity (-1: none), per T_CAP_DAYS days
# Columns of the arrival table. A_EXACT: an event, exactly one group on its day (not a Poisson count);
# A_FROM: the counted state an event's group is taken from (-1: from outside the system).
A_TARGET, A_RATE, A_GRP, A_GRP_A, A_GRP_B, A_GRP_EMP, A_START, A_END, A_REDIR, A_EXACT, A_FROM = range(11)
A_COLUMNS = 11
# Signal kinds and action kinds of rules.
SIG_STOCK, SIG_FLOW = 0, 1
ACT_CLOSE_SITE, ACT_CLOSE_STATE, ACT_SET, ACT_MULTIPLY = 0, 1, 2, 3
