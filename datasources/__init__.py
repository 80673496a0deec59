"""Where the data comes from: every signal's PromQL, once (node, kube_state, cadvisor, backends,
model_signals, recorded), for the panels and the alert definitions alike."""
