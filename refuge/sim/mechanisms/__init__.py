"""The mechanisms of the simulation core, one module (or folder) each. Each declares once what it adds (`DECL`,
a `refuge.sim.declare.Mechanism`: the model arrays its steps read, the arrays a run changes, its results), and
holds its Numba steps; `refuge.sim.layout` joins the declarations (in the day's order, `DAY`) and
`refuge.sim.day` calls the steps in order (or another mechanism's step calls them: `refuge.sim.hooks`).

    parameters   scheduled parameter values, recorded daily
    rules        signals, switching on and off, actions
    sites        capacities and closures; `room`
    queues       processing capacity of a transition (served first come, first served)
    order/       the service order of a capacity-limited transition, the whole mechanism in one folder (its
                 part of the format too): the example of docs/architecture.md's "how to add a mechanism"
    arrivals     arrival streams and events
    moves        where everyone is; the moves all mechanisms make (`try_move`, `place`, `take`)
    counted      states whose exits are constant rates: counts, binomial and multinomial draws
    tracked/     states whose exits depend on time in state: units with entry and due days; completed stays
    network/     movement on a route network (Flee's rules), with its own per-person reference
    draws        draws the mechanisms share
"""
