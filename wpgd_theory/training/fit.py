"""The training loop: jitted Adam steps under ``jax.lax.scan``, vmapped over seeds.

Prompts are drawn fresh inside every jitted step with ``jax.random``; Adam (optax) with a cosine
learning-rate decay to 1 % of ``learning_rate``; everything in float32 (see docs/training.md).
The compiled code is cached per architecture and options, so repeated runs skip compilation.
"""
from __future__ import annotations

import functools

import numpy as np

from ..core.validation import as_bool
from ._jax import jax, jnp, optax
from .data import PromptSampler

__all__ = []          # the loop is internal: train.py runs it


def _chunk_length(steps, limit=1000):
    if steps <= limit:
        return steps
    divisors = [c for c in range(limit, 0, -1) if steps % c == 0]
    return divisors[0] if divisors[0] >= 100 else limit


@functools.lru_cache(maxsize=32)
def _compiled(arch, steps, batch_size, learning_rate, mode):
    """Jitted ``start`` and chunk runners, cached so that repeated runs skip compilation.

    ``mode``: ``"single"`` (one seed, no vmap), ``"independent"`` (vmap over seeds, each seed
    draws its own prompts) or ``"shared"`` (vmap over seeds' parameters only; every seed trains
    on the prompt stream of the first seed, drawn once per step).
    """
    sampler = PromptSampler(arch.model)
    schedule = optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01)
    optimizer = optax.adam(schedule)

    def loss_on(params, prompts):
        return jnp.mean((prompts.query_label - arch.predict(params, prompts)) ** 2)

    def update(params, opt_state, grads):
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    def step(carry, _):
        params, opt_state, data_key, t = carry
        prompts = sampler.sample(jax.random.fold_in(data_key, t), batch_size)
        if mode == "shared":
            loss, grads = jax.vmap(jax.value_and_grad(loss_on), (0, None))(params, prompts)
            params, opt_state = jax.vmap(update)(params, opt_state, grads)
        else:
            loss, grads = jax.value_and_grad(loss_on)(params, prompts)
            params, opt_state = update(params, opt_state, grads)
        return (params, opt_state, data_key, t + 1), loss

    def keys(seed):
        init_key, data_key = jax.random.split(jax.random.PRNGKey(seed))
        return init_key, data_key

    def start(seed):
        init_key, data_key = keys(seed)
        params = arch.init(init_key)
        return params, optimizer.init(params), data_key, jnp.asarray(0)

    def start_shared(seeds):
        params, opt_state, _, t = jax.vmap(start)(seeds)
        return params, opt_state, keys(seeds[0])[1], t[0]

    runners = {}

    def runner(length):
        if length not in runners:
            scan = lambda c: jax.lax.scan(step, c, None, length=length)
            runners[length] = jax.jit(jax.vmap(scan) if mode == "independent" else scan)
        return runners[length]

    first = {"single": start, "independent": jax.vmap(start), "shared": start_shared}[mode]
    return jax.jit(first), runner


def _fit(arch, seeds, steps, batch_size, learning_rate, progress, share_prompts=False,
         edit_init=None):
    """Train one model per seed at once (vmap); returns stacked params and losses (S, steps).

    ``edit_init`` (optional) maps the stacked initial parameters to new ones (the diverse gate
    starts of ``starts``); Adam's initial state does not depend on the parameters' values.
    """
    # no vmap for one seed: batch axes of size 1 cost time
    mode = "single" if len(seeds) == 1 else "shared" if share_prompts else "independent"
    start, runner = _compiled(arch, steps, batch_size, learning_rate, mode)
    keys = jnp.asarray(seeds, dtype=jnp.uint32)
    carry = start(keys[0] if mode == "single" else keys)
    if edit_init is not None:
        carry = (edit_init(carry[0]),) + tuple(carry[1:])

    chunk, done, losses = _chunk_length(steps), 0, []
    bar = _progress_bar(steps, progress)
    while done < steps:
        length = min(chunk, steps - done)
        carry, loss = runner(length)(carry)
        loss = np.asarray(loss)
        loss = (loss.T if mode == "shared" else loss).reshape(len(seeds), length)
        losses.append(loss)
        bad = ~np.isfinite(loss)
        if bad.any():
            s, t = np.argwhere(bad)[0]
            if done + t == 0:
                raise FloatingPointError(
                    f"the loss of seed {seeds[s]} is {loss[s, t]} at step 0, before any update: "
                    f"the initial predictions overflow float32 (init_scale {arch.init_scale}); "
                    "lower init_scale")
            raise FloatingPointError(
                f"training diverged: the loss of seed {seeds[s]} became {loss[s, t]} at step "
                f"{done + t} (gating {arch.gating!r}, learning_rate {learning_rate}); lower the "
                "learning_rate")
        done += length
        if bar is not None:
            bar.update(length)
    if bar is not None:
        bar.close()
    params = carry[0]
    if mode == "single":
        params = jax.tree_util.tree_map(lambda a: a[None], params)
    return params, np.concatenate(losses, axis=1)


def _progress_bar(total, progress):
    if not as_bool(progress, "progress"):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:                                           # pragma: no cover
        return None
    return tqdm(total=total, desc="training", unit="step")
