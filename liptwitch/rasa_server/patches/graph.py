"""Running the trained model: prediction graphs run in order without dask, models load for prediction only, DIET's
traced graph is called directly, sparse features are joined directly.

Each patch has unit tests that compare it with Rasa's own result (tests/rasa_server/).
"""

from __future__ import annotations

from typing import Any, NamedTuple


def run_prediction_graphs_without_dask() -> None:
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    original = DaskGraphRunner.run

    def run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict:
        if not inputs or not (PLACEHOLDER_MESSAGE in inputs or PLACEHOLDER_TRACKER in inputs):
            return original(self, inputs, targets)  # training and anything else: Rasa's own, with dask
        run_targets = targets if targets else self._graph_schema.target_names
        graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        self._add_inputs_to_graph(inputs, graph)
        try:
            results = run_graph(graph, run_targets)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results[target] for target in run_targets)

    DaskGraphRunner.run = run  # type: ignore[method-assign]


def run_graph(graph: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    """Runs a Rasa graph in dask's form ({name: (node, *names of its inputs)} or {name: (name, input value)}) in
    order, each node once; dask's scheduler, built for parallel work, costs more than the small graphs it runs,
    three times a turn."""
    results: dict[str, Any] = {}

    def result_of(name: str) -> Any:
        if name not in results:
            task = graph[name]
            if isinstance(task, tuple) and task and callable(task[0]):
                results[name] = task[0](*(result_of(need) if isinstance(need, str) and need in graph else need
                                          for need in task[1:]))
            else:
                results[name] = task  # an input: (its name, its value)
        return results[name]

    for target in targets:
        result_of(target)
    return results


def load_models_for_prediction_only() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel.load.__func__  # type: ignore[attr-defined]

    def load(cls: type, model_file_name: str, model_data_example: Any, predict_data_example: Any = None,
             finetune_mode: bool = False, *args: Any, **kwargs: Any) -> RasaModel:
        if finetune_mode or not predict_data_example:
            return original(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                            *args, **kwargs)
        model = cls(*args, **kwargs)
        # One eager prediction creates every variable that prediction uses. (Rasa trains one step instead, which
        # also creates the optimizer's variables and traces the whole training graph.) Its outputs are thrown away:
        # the weights are still random.
        model._run_eagerly = True
        model.run_inference(predict_data_example)
        model.load_weights(model_file_name).expect_partial()  # the optimizer's saved variables are not needed
        # What that prediction prepared (the label embeddings) came from the random weights: prepare again, and
        # trace the prediction graph once, as Rasa's own load does.
        model._run_eagerly = bool(kwargs.get("config", {}).get("run_eagerly"))
        model.prepared_for_prediction = False
        model._tf_predict_step = None
        model.run_inference(predict_data_example)
        return model

    load.patched = True  # type: ignore[attr-defined]
    load.rasas = original  # type: ignore[attr-defined]
    RasaModel.load = classmethod(load)  # type: ignore[method-assign, assignment]


def call_the_traced_prediction_graph_directly() -> None:
    import tensorflow as tf
    from keras.utils import tf_utils
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel._rasa_predict

    def _rasa_predict(self: RasaModel, batch_in: Any) -> dict[str, Any]:
        traced = self._tf_predict_step
        if self._run_eagerly or not self.prepared_for_prediction or traced is None or self._training:
            return original(self, batch_in)  # the first prediction traces the graph, as Rasa does
        graph = traced_graph(traced)
        inputs = [tf.convert_to_tensor(value, dtype=spec.dtype)
                  for value, spec in zip(batch_in, graph.input_specs, strict=True)]
        flat_outputs = graph.function._call_flat(inputs, graph.function.captured_inputs)
        outputs = tf_utils.sync_to_numpy_or_python_type(flat_outputs)
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    _rasa_predict.rasas = original  # type: ignore[attr-defined]
    RasaModel._rasa_predict = _rasa_predict  # type: ignore[method-assign]


class TracedGraph(NamedTuple):
    function: Any  # the tf.function's one concrete function (it has a fixed input signature)
    input_specs: list[Any]


def traced_graph(traced: Any) -> TracedGraph:
    """The concrete function behind a tf.function with an input signature, kept on it."""
    graph = getattr(traced, "_liptwitch_graph", None)
    if graph is None:
        import tensorflow as tf

        function = traced.get_concrete_function()
        graph = TracedGraph(function, tf.nest.flatten(function.structured_input_signature))
        traced._liptwitch_graph = graph
    return graph


def join_sparse_features_directly() -> None:
    from rasa.shared.nlu.training_data.features import Features

    original = Features._combine_sparse_features

    def _combine_sparse_features(self: Features, additional_features: Features) -> None:
        joined = hstack_coo(self.features, additional_features.features)
        if joined is None:
            return original(self, additional_features)  # other formats, or rows that differ: Rasa's own
        self.features = joined
        self._cached_fingerprint = None

    _combine_sparse_features.rasas = original  # type: ignore[attr-defined]
    Features._combine_sparse_features = _combine_sparse_features  # type: ignore[method-assign]


def hstack_coo(left: Any, right: Any) -> Any:
    """`scipy.sparse.hstack([left, right])` for two COO matrices with the same number of rows, built as scipy
    1.10's `bmat` builds it (blocks' entries one after the other, columns shifted, values in the common type);
    None for anything else."""
    import numpy as np
    import scipy.sparse
    from scipy.sparse._sputils import upcast  # scipy's own choice of the common type (scipy is pinned)

    if not (isinstance(left, scipy.sparse.coo_matrix) and isinstance(right, scipy.sparse.coo_matrix)
            and left.shape[0] == right.shape[0]):
        return None
    shape = (left.shape[0], left.shape[1] + right.shape[1])
    index_dtype = np.int32 if max(shape) <= np.iinfo(np.int32).max else np.int64  # as scipy's get_index_dtype
    row = np.concatenate([left.row, right.row]).astype(index_dtype, copy=False)
    col = np.concatenate([left.col.astype(index_dtype, copy=False),
                          right.col.astype(index_dtype, copy=False) + index_dtype(left.shape[1])])
    data = np.concatenate([left.data, right.data]).astype(upcast(left.dtype, right.dtype), copy=False)
    return scipy.sparse.coo_matrix((data, (row, col)), shape=shape)
