"""Registration of every built-in catalogue entry, as lazy ``"module:attr"`` references.

Importing this module imports none of the referenced modules; each loads on first ``make``.
"""

from __future__ import annotations

from codesign.registry import REGISTRIES

_BUILTINS: dict[str, dict[str, tuple[str, str]]] = {
    "workload": {
        "digits-cnn": ("codesign.workloads.zoo:digits_cnn", "4-layer CNN of the digits accuracy probe (8x8 images)"),
        "resnet18": ("codesign.workloads.zoo:resnet18", "ResNet-18, ImageNet 224x224 (He et al. 2016)"),
        "mobilenetv2": ("codesign.workloads.zoo:mobilenetv2", "MobileNetV2 1.0, ImageNet 224x224 (Sandler et al. 2018)"),
        "llama2-7b": ("codesign.workloads.zoo:llama2_7b", "Llama-2-7B decoder, prefill of `tokens` tokens"),
        "mixtral-8x7b": ("codesign.workloads.zoo:mixtral_8x7b", "Mixtral-8x7B MoE decoder (8 experts, top-2)"),
        "deepseek-v2-lite": ("codesign.workloads.zoo:deepseek_v2_lite", "DeepSeek-V2-Lite MoE (64 experts, 2 shared, top-6)"),
        "qwen1.5-moe-a2.7b": ("codesign.workloads.zoo:qwen15_moe_a27b", "Qwen1.5-MoE-A2.7B (60 experts, 1 shared, top-4)"),
        "olmoe-1b-7b": ("codesign.workloads.zoo:olmoe_1b_7b", "OLMoE-1B-7B (64 experts, top-8)"),
        "fmnist-cnn": ("codesign.evaluators.accuracy.real_workloads:fmnist_cnn", "Fashion-MNIST CNN of the fmnist accuracy probe (traced)"),
        "moe-shakespeare": ("codesign.evaluators.accuracy.real_workloads:moe_shakespeare", "byte-level MoE (8 experts, top-2), measured routing"),
        "minilm-l6": ("codesign.evaluators.accuracy.real_workloads:minilm_l6", "all-MiniLM-L6-v2 BERT encoder (traced from transformers)"),
        "gemma3-270m": ("codesign.evaluators.accuracy.real_workloads:gemma3_270m", "Gemma-3-270M dense decoder (traced; extra codesign[gemma])"),
    },
    "space": {
        "quant": ("codesign.spaces.builders:quant_space", "per-layer / per-expert weight and activation bit widths"),
        "hw": ("codesign.spaces.builders:hardware_space", "accelerator: PE type, array, buffers, DRAM bandwidth, clock"),
        "mapping": ("codesign.spaces.builders:mapping_space", "per-layer dataflow and tile factors"),
        "joint": ("codesign.spaces.builders:joint_space", "quant x hw (x mapping) joint space of a workload"),
        "digits-accel": ("codesign.spaces.catalog:digits_accel_space", "default: digits-CNN bits x accelerator"),
    },
    "evaluator": {
        "roofline": ("codesign.evaluators.roofline:RooflineEvaluator", "per-layer max(compute, memory) accelerator model"),
        "cost-model": ("codesign.evaluators.cost.evaluator:CostModelEvaluator", "loop-nest accelerator cost model with a nested mapper"),
        "digits-probe": ("codesign.evaluators.accuracy.digits:DigitsProbe", "real quantized accuracy of a CNN on scikit-learn digits"),
        "fmnist-probe": ("codesign.evaluators.accuracy.fmnist:FashionMNISTProbe", "real quantized accuracy of a CNN on Fashion-MNIST"),
        "moe-probe": ("codesign.evaluators.accuracy.moe:MoEProbe", "real quantized held-out bits/byte of the Shakespeare MoE"),
        "minilm-probe": ("codesign.evaluators.accuracy.minilm:MiniLMProbe", "real quantized MiniLM: tweet sentiment, WordSim353"),
        "gemma-probe": ("codesign.evaluators.accuracy.gemma:GemmaProbe", "real quantized Gemma-3-270M news perplexity (extra codesign[gemma])"),
    },
    "agent": {
        "random": ("codesign.agents.random:RandomAgent", "uniform random sampling of valid designs"),
        "tpe": ("codesign.agents.optuna_agents:TPEAgent", "optuna TPE (multi-objective)"),
        "nsga2": ("codesign.agents.optuna_agents:NSGA2Agent", "optuna NSGA-II genetic algorithm"),
        "optuna-gp": ("codesign.agents.optuna_agents:GPAgent", "optuna GP sampler (Bayesian optimization, multi-objective)"),
        "botorch": ("codesign.agents.botorch_agent:BotorchAgent", "BoTorch multi-objective BO (qLogNEHVI / qLogNParEGO)"),
        "mcts": ("codesign.agents.mcts:MCTSAgent", "Monte Carlo tree search (UCT, progressive widening) over decisions"),
        "qlearning": ("codesign.agents.qlearning:QLearningAgent", "tabular Q-learning over the sequence of decisions"),
        "sb3-ppo": ("codesign.agents.rl.sb3:PPOAgent", "stable-baselines3 PPO on DesignEnv"),
        "sb3-dqn": ("codesign.agents.rl.sb3:DQNAgent", "stable-baselines3 DQN on LayerwiseEnv (discrete)"),
        "sb3-sac": ("codesign.agents.rl.sb3:SACAgent", "stable-baselines3 SAC on LayerwiseEnv (continuous)"),
        "haq": ("codesign.agents.rl.haq:HAQAgent", "HAQ-style DDPG on LayerwiseEnv with a bit-budget action wall"),
        "marl": ("codesign.agents.rl.marl:MARLAgent", "one agent per subsystem on the PettingZoo env, value decomposition (VDN, CTDE)"),
        "marl-independent": ("codesign.agents.rl.marl:IndependentMARLAgent", "baseline: independent learners per subsystem on the PettingZoo env"),
        "hasco": ("codesign.agents.hasco:HASCOAgent", "nested: BO over hardware, knapsack bits, inner mapping search"),
    },
    "problem": {
        "digits-accel": ("codesign.problems.digits:digits_accel", "default: digits CNN x accelerator; accuracy, latency, energy, area"),
        "digits-accel-small": ("codesign.problems.digits:digits_accel_small", "small enumerable variant of the default problem"),
        "fmnist-accel": ("codesign.problems.flagship:fmnist_accel", "Fashion-MNIST CNN per-layer bits x PE family/array/buffers; real accuracy + cost model (nested mapping)"),
        "fmnist-accel-flat": ("codesign.problems.flagship:fmnist_accel_flat", "fmnist-accel with per-layer mapping params (flat)"),
        "moe-accel": ("codesign.problems.flagship:moe_accel", "byte-level MoE per-expert bits, routing-weighted cost; real bits/byte + cost model (nested)"),
        "moe-accel-flat": ("codesign.problems.flagship:moe_accel_flat", "moe-accel with per-layer mapping params (flat)"),
        "minilm-accel": ("codesign.problems.flagship:minilm_accel", "all-MiniLM-L6-v2 per-layer bits, attention in the cost; real accuracy + cost model (nested)"),
        "minilm-accel-flat": ("codesign.problems.flagship:minilm_accel_flat", "minilm-accel with per-layer mapping params (flat)"),
        "gemma-accel": ("codesign.problems.flagship:gemma_accel", "Gemma-3-270M per-layer bits; real perplexity + cost model (extra codesign[gemma])"),
        "resnet18-accel": ("codesign.problems.accel:resnet18_accel", "ResNet-18 at 8 bits x accelerator, cost model with nested mapping search"),
        "resnet18-accel-flat": ("codesign.problems.accel:resnet18_accel_flat", "ResNet-18 at 8 bits x accelerator x mapping params (flat)"),
        "mixtral-accel": ("codesign.problems.accel:mixtral_accel", "Mixtral-8x7B MoE at 8 bits x accelerator, cost model, nested mapping"),
    },
    "env": {
        "codesign/Design-v0": ("codesign.envs.design:DesignEnv", "one full design per step (gymnasium)"),
        "codesign/Layerwise-v0": ("codesign.envs.layerwise:LayerwiseEnv", "one decision per step, HAQ-style (gymnasium)"),
        "codesign/MultiAgent-v0": ("codesign.envs.multiagent:MultiAgentDesignEnv", "one agent per subsystem (PettingZoo ParallelEnv)"),
    },
    "pe": {
        "bit_parallel": ("codesign.rtl_sim.characterize:bit_parallel", "bit-parallel MAC (baseline)"),
        "bit_serial": ("codesign.rtl_sim.characterize:bit_serial", "weight bit-serial PE (BISMO/BitMoD style)"),
        "bit_serial_act": ("codesign.rtl_sim.characterize:bit_serial_act", "activation bit-serial PE (Stripes)"),
        "lut": ("codesign.rtl_sim.characterize:lut", "LUT PE over weight bit-planes (T-MAC style)"),
        "bit_serial_both": ("codesign.rtl_sim.models_serial:bit_serial_both", "both operands as bit-plane pairs (Loom / BISMO)"),
        "serial": ("codesign.rtl_sim.models_serial:serial", "configurable digit-serial PE, BitMoD-like by default"),
        "essential": ("codesign.rtl_sim.models_serial:essential", "zero-bit-skipping weight-serial PE (Pragmatic; data-dependent)"),
        "essential_csd": ("codesign.rtl_sim.characterize:essential_csd", "zero-bit skipping over signed-digit terms (Laconic-style)"),
        "bit_fusion": ("codesign.rtl_sim.characterize:bit_fusion", "Bit Fusion fused 2-bit bricks (synthesized figures)"),
    },
}


def register_builtins() -> None:
    for kind, entries in _BUILTINS.items():
        reg = REGISTRIES[kind]
        for name, (ref, summary) in entries.items():
            if name not in reg:
                reg.register(name, ref, summary=summary)
