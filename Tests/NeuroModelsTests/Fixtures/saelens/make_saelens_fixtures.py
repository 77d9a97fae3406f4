"""Writes the SAELens parity fixtures for NeuroModelsTests (SparseAutoencoderSAELensTests).

Run from anywhere with a Python that has sae-lens (it brings torch and safetensors):

    pip install sae-lens
    python Tests/NeuroModelsTests/Fixtures/saelens/make_saelens_fixtures.py

For each case below it builds a small SAE (d_in 8, d_sae 16) with SAELens's own
inference classes, gives it random non-trivial weights from a fixed seed, and
saves it with SAELens's own `save_model` into a folder next to this script:

  <case>/cfg.json                  SAELens's config (architecture, d_in, d_sae, dtype,
                                   apply_b_dec_to_input, normalize_activations, k, ...)
  <case>/sae_weights.safetensors   SAELens's state dict (W_enc [8, 16], W_dec [16, 8], b_dec [8],
                                   and b_enc, or b_gate/r_mag/b_mag, or threshold)

`save_model` writes only these two files; nothing is deleted.

Cases:
  standard                  ReLU encoder.
  gated                     gate and magnitude paths, r_mag nonzero.
  topk                      k = 3; b_enc pushed negative so some inputs have fewer than
                            k positive pre-activations (TopK then ReLU).
  jumprelu                  positive thresholds, chosen so some pre-activations fall
                            between 0 and the threshold (JumpReLU is not plain ReLU here).
  gated_raw_input           gated with apply_b_dec_to_input = false (b_dec is not subtracted
                            from the input before encoding).
  topk_rescaled             topk with rescale_acts_by_decoder_norm = true and decoder rows
                            of unequal norms.

It then writes expected.safetensors next to this script:
  x                         float32 [6, 8], the inputs
  <case>.features           float32 [6, 16], SAELens's sae.encode(x)
  <case>.reconstruction     float32 [6, 8], SAELens's sae.decode(sae.encode(x))
  metadata: sae_lens_version, torch_version, cases (comma separated).

The expected values are computed by the SAE that SAELens loads back from the
saved folder (SAE.load_from_disk), so they are what a SAELens user gets from
these files. Every pre-activation is kept at least 1e-3 away from where the
nonlinearity decides (0 for the gate, the threshold for JumpReLU, the k-th
largest for TopK) so float32 rounding cannot flip a decision.
"""
import importlib.metadata
import os
import shutil

import torch
from safetensors.torch import save_file
from sae_lens import (
    SAE,
    GatedSAE,
    GatedSAEConfig,
    JumpReLUSAE,
    JumpReLUSAEConfig,
    StandardSAE,
    StandardSAEConfig,
    TopKSAE,
    TopKSAEConfig,
)

HERE = os.path.dirname(os.path.abspath(__file__))
D_IN, D_SAE, K = 8, 16, 3
MARGIN = 1e-3
torch.set_num_threads(1)


def randomize(sae, g, b_enc_shift=0.0, decoder_norms=False):
    """Random non-trivial weights in SAELens's names; returns the SAE."""
    with torch.no_grad():
        sae.W_enc.copy_(0.5 * torch.randn(D_IN, D_SAE, generator=g))
        w_dec = 0.5 * torch.randn(D_SAE, D_IN, generator=g)
        if decoder_norms:
            w_dec *= torch.linspace(0.3, 3.0, D_SAE).unsqueeze(1)
        sae.W_dec.copy_(w_dec)
        sae.b_dec.copy_(0.3 * torch.randn(D_IN, generator=g))
        if isinstance(sae, GatedSAE):
            sae.b_gate.copy_(0.3 * torch.randn(D_SAE, generator=g))
            sae.r_mag.copy_(0.5 * torch.randn(D_SAE, generator=g))
            sae.b_mag.copy_(0.3 * torch.randn(D_SAE, generator=g))
        else:
            sae.b_enc.copy_(0.3 * torch.randn(D_SAE, generator=g) + b_enc_shift)
        if isinstance(sae, JumpReLUSAE):
            sae.threshold.copy_(0.1 + 0.6 * torch.rand(D_SAE, generator=g))
    return sae


def centered(sae, x):
    return x - sae.b_dec * sae.cfg.apply_b_dec_to_input


def check_margins(name, sae, x):
    """Fails if a decision of the nonlinearity is within MARGIN of flipping."""
    with torch.no_grad():
        c = centered(sae, x)
        if isinstance(sae, GatedSAE):
            gaps = (c @ sae.W_enc + sae.b_gate).abs()
        elif isinstance(sae, JumpReLUSAE):
            pre = c @ sae.W_enc + sae.b_enc
            gaps = torch.cat([(pre - sae.threshold).abs(), pre.abs()])
        elif isinstance(sae, TopKSAE):
            pre = c @ sae.W_enc + sae.b_enc
            if sae.cfg.rescale_acts_by_decoder_norm:
                pre = pre * sae.W_dec.norm(dim=-1)
            top = pre.sort(dim=-1, descending=True).values
            gaps = torch.cat([top[:, K - 1] - top[:, K], pre.abs().flatten()])
        else:
            gaps = (c @ sae.W_enc + sae.b_enc).abs()
    smallest = gaps.min().item()
    assert smallest > MARGIN, f"{name}: a decision is {smallest:.2e} from flipping; change the seed"


def build_cases():
    g = torch.Generator().manual_seed(20261207)
    return {
        "standard": randomize(StandardSAE(StandardSAEConfig(d_in=D_IN, d_sae=D_SAE)), g),
        "gated": randomize(GatedSAE(GatedSAEConfig(d_in=D_IN, d_sae=D_SAE)), g),
        "topk": randomize(TopKSAE(TopKSAEConfig(d_in=D_IN, d_sae=D_SAE, k=K)), g, b_enc_shift=-2.5),
        "jumprelu": randomize(JumpReLUSAE(JumpReLUSAEConfig(d_in=D_IN, d_sae=D_SAE)), g),
        "gated_raw_input": randomize(GatedSAE(GatedSAEConfig(d_in=D_IN, d_sae=D_SAE, apply_b_dec_to_input=False)), g),
        "topk_rescaled": randomize(TopKSAE(TopKSAEConfig(d_in=D_IN, d_sae=D_SAE, k=K, rescale_acts_by_decoder_norm=True)),
                                   g, decoder_norms=True),
    }


def main():
    cases = build_cases()
    g = torch.Generator().manual_seed(7)
    x = 1.5 * torch.randn(6, D_IN, generator=g) + 0.2
    expected = {"x": x.contiguous()}
    for name, sae in cases.items():
        folder = os.path.join(HERE, name)
        shutil.rmtree(folder, ignore_errors=True)
        sae.save_model(folder)
        written = sorted(os.listdir(folder))
        assert written == ["cfg.json", "sae_weights.safetensors"], f"{name}: save_model wrote {written}"
        loaded = SAE.load_from_disk(folder)
        assert type(loaded) is type(sae), f"{name}: loaded as {type(loaded).__name__}"
        check_margins(name, loaded, x)
        with torch.no_grad():
            features = loaded.encode(x)
            reconstruction = loaded.decode(features)
            assert torch.equal(features, sae.encode(x)), f"{name}: the loaded SAE encodes differently"
        active = (features > 0).sum(dim=-1).tolist()
        print(f"{name:16s} active features per input {active}")
        expected[f"{name}.features"] = features.contiguous()
        expected[f"{name}.reconstruction"] = reconstruction.contiguous()
    # Non-vacuous: JumpReLU zeroes some positive pre-activations; TopK leaves some rows under k.
    jr = cases["jumprelu"]
    with torch.no_grad():
        pre = x - jr.b_dec
        pre = pre @ jr.W_enc + jr.b_enc
    assert ((pre > 0) & (pre <= jr.threshold)).any(), "jumprelu: no pre-activation between 0 and its threshold"
    assert ((expected["topk.features"] > 0).sum(dim=-1) < K).any(), "topk: every input has k positive pre-activations"
    metadata = {
        "sae_lens_version": importlib.metadata.version("sae-lens"),
        "torch_version": torch.__version__,
        "cases": ",".join(cases),
    }
    save_file(expected, os.path.join(HERE, "expected.safetensors"), metadata=metadata)
    print("wrote", os.path.join(HERE, "expected.safetensors"), metadata)


if __name__ == "__main__":
    main()
