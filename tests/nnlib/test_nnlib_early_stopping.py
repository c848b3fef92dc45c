"""Early stopping in Sequential.fit (patience, restore_best_weights, monitor,
min_delta), taught in chapter 9. The expected stopping epochs are derived from
the recorded history by the rule itself (best so far, then `patience` epochs
without improvement), and the weights are compared with independent training
runs of the same length from the same seed."""
from __future__ import annotations

import numpy as np
import pytest

from nnlib.data import make_moons, train_test_split
from nnlib.model import MLP


def overfitting_setup(seed=0):
    """A big network on 30 noisy moons: validation loss falls, then rises."""
    X, y = make_moons(n_samples=230, noise=0.35, seed=seed)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=200, seed=seed)
    return X_train, y_train, X_val, y_val


def fresh_model(seed=1, l2=0.0):
    model = MLP([2, 64, 64, 1], activation="relu", seed=seed, l2=l2)
    return model.compile("binary_crossentropy", "adam")


def expected_stop(values, patience, minimise=True, min_delta=0.0):
    """(best_epoch, stopped_epoch or None) for a sequence of monitored values, by hand."""
    best, best_epoch, wait = np.inf, None, 0
    for epoch, v in enumerate(values):
        v = v if minimise else -v
        if v < best - min_delta:
            best, best_epoch, wait = v, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch
    return best_epoch, None


def test_stops_patience_epochs_after_the_best_val_loss():
    X, y, Xv, yv = overfitting_setup()
    model = fresh_model()
    h = model.fit(X, y, epochs=300, batch_size=30, validation_data=(Xv, yv), seed=0,
                  verbose=0, patience=10)
    val = h.history["val_loss"]
    assert h.stopped_epoch is not None, "the big net on 30 points should overfit and stop early"
    assert h.stopped_epoch < 299
    assert len(val) == len(h.epoch) == h.stopped_epoch + 1
    assert h.best_epoch == int(np.argmin(val))
    assert h.stopped_epoch == h.best_epoch + 10
    assert (h.best_epoch, h.stopped_epoch) == expected_stop(val, 10)


def test_restore_best_weights_gives_the_weights_of_the_best_epoch():
    X, y, Xv, yv = overfitting_setup()
    model = fresh_model()
    h = model.fit(X, y, epochs=300, batch_size=30, validation_data=(Xv, yv), seed=0,
                  verbose=0, patience=10, restore_best_weights=True)
    # Independent run: train the same network for exactly best_epoch + 1 epochs.
    reference = fresh_model()
    reference.fit(X, y, epochs=h.best_epoch + 1, batch_size=30, seed=0, verbose=0)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    val_loss, _ = model.evaluate(Xv, yv)
    assert val_loss == pytest.approx(min(h.history["val_loss"]), rel=1e-12)


def test_without_restore_the_last_epoch_weights_are_kept():
    X, y, Xv, yv = overfitting_setup()
    model = fresh_model()
    h = model.fit(X, y, epochs=300, batch_size=30, validation_data=(Xv, yv), seed=0,
                  verbose=0, patience=5)
    reference = fresh_model()
    reference.fit(X, y, epochs=h.stopped_epoch + 1, batch_size=30, seed=0, verbose=0)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert model.evaluate(Xv, yv)[0] > min(h.history["val_loss"])


def test_no_patience_runs_every_epoch():
    X, y, Xv, yv = overfitting_setup()
    h = fresh_model().fit(X, y, epochs=25, batch_size=30, validation_data=(Xv, yv), seed=0,
                          verbose=0)
    assert len(h.epoch) == 25
    assert h.stopped_epoch is None and h.best_epoch is None


def test_restore_best_weights_without_patience_runs_all_epochs_then_restores():
    X, y, Xv, yv = overfitting_setup()
    model = fresh_model()
    h = model.fit(X, y, epochs=120, batch_size=30, validation_data=(Xv, yv), seed=0,
                  verbose=0, restore_best_weights=True)
    assert len(h.epoch) == 120 and h.stopped_epoch is None
    assert h.best_epoch == int(np.argmin(h.history["val_loss"]))
    assert h.best_epoch < 119, "the setup should overfit before epoch 120"
    assert model.evaluate(Xv, yv)[0] == pytest.approx(h.history["val_loss"][h.best_epoch],
                                                      rel=1e-12)


def test_monitor_val_accuracy_maximises():
    X, y, Xv, yv = overfitting_setup()
    h = fresh_model().fit(X, y, epochs=300, batch_size=30, validation_data=(Xv, yv), seed=0,
                          verbose=0, patience=8, monitor="val_accuracy")
    acc = h.history["val_accuracy"]
    assert (h.best_epoch, h.stopped_epoch) == expected_stop(acc, 8, minimise=False)
    assert acc[h.best_epoch] == max(acc)
    assert acc.index(max(acc)) == h.best_epoch  # the first epoch reaching the maximum


def test_monitor_training_loss_without_validation_data():
    X, y, _, _ = overfitting_setup()
    h = fresh_model().fit(X, y, epochs=40, batch_size=30, seed=0, verbose=0, patience=3,
                          monitor="loss", min_delta=0.01)
    assert (h.best_epoch, h.stopped_epoch) == expected_stop(h.history["loss"], 3,
                                                             min_delta=0.01)


def test_huge_min_delta_stops_after_patience_epochs():
    X, y, Xv, yv = overfitting_setup()
    h = fresh_model().fit(X, y, epochs=50, batch_size=30, validation_data=(Xv, yv), seed=0,
                          verbose=0, patience=4, min_delta=1e9)
    assert h.best_epoch == 0 and h.stopped_epoch == 4 and len(h.epoch) == 5


def test_validation_that_only_gets_worse_stops_at_patience():
    # validation labels are the training labels flipped: learning the training set makes
    # the validation loss rise from the first epoch on
    X, y, _, _ = overfitting_setup()
    h = fresh_model().fit(X, y, epochs=100, batch_size=30, validation_data=(X, 1 - y),
                          seed=0, verbose=0, patience=3)
    assert np.all(np.diff(h.history["val_loss"]) > 0)
    assert h.best_epoch == 0 and h.stopped_epoch == 3


@pytest.mark.parametrize("patience", [0, -2, 1.5, True, "3"])
def test_bad_patience_is_rejected(patience):
    X, y, Xv, yv = overfitting_setup()
    with pytest.raises(ValueError, match="patience to be a positive integer"):
        fresh_model().fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0,
                          patience=patience)


def test_val_monitor_without_validation_data_is_rejected():
    X, y, _, _ = overfitting_setup()
    with pytest.raises(ValueError, match="needs validation data.*validation_data="):
        fresh_model().fit(X, y, epochs=2, verbose=0, patience=2)


def test_unknown_monitor_is_rejected_with_a_suggestion():
    X, y, Xv, yv = overfitting_setup()
    with pytest.raises(ValueError, match="unknown monitor 'val_los'.*did you mean 'val_loss'"):
        fresh_model().fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0, patience=2,
                          monitor="val_los")


def test_accuracy_monitor_needs_the_accuracy_metric():
    X, y, Xv, yv = overfitting_setup()
    model = MLP([2, 8, 1], seed=0).compile("binary_crossentropy", "adam", metrics=[])
    with pytest.raises(ValueError, match="does not track accuracy"):
        model.fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0, patience=2,
                  monitor="val_accuracy")


@pytest.mark.parametrize("kwargs, message", [
    ({"patience": 2, "min_delta": -0.1}, "min_delta to be a number >= 0"),
    ({"patience": 2, "min_delta": "0"}, "min_delta to be a number >= 0"),
    ({"restore_best_weights": "yes"}, "restore_best_weights to be True or False"),
])
def test_bad_min_delta_and_restore_are_rejected(kwargs, message):
    X, y, Xv, yv = overfitting_setup()
    with pytest.raises(ValueError, match=message):
        fresh_model().fit(X, y, epochs=2, validation_data=(Xv, yv), verbose=0, **kwargs)
