/* train_policy — `alsim train-policy`: learns the rl strategy's policy on simulated
 * active-learning episodes, by imitation of a look-ahead teacher (DAgger, the default) or by
 * REINFORCE. A driver of the engine, like run.c.
 *
 * An episode is a Session (sim/engine.h) of the rl strategy with the run's options (the
 * same model, budget rule, reference rows and feature code as `alsim run` with those
 * options) on a random subset of one training dataset's pool: P rows (--pool-size, 0 = all
 * but the reward split) and a disjoint reward split of Q rows (--reward-size) standing in
 * for the test set (never the dataset's test set). Only the picker differs from a run.
 * The policy starts as margin (rl.h, policy.h).
 *
 * --algo dagger: the picker takes the policy's batch as a run does (greedy, with its learned
 * diversity penalty: policy.h); at the teacher's rounds
 * (every --dagger-every-th) it also builds the teacher's candidate batches (strategies/
 * teacher.c: margin, entropy, BALD, k-center, class-balanced margin) and the policy's own,
 * has the engine refit the run's model once per distinct candidate (session_enable_lookahead:
 * the next round's fit, common random numbers, on the reward split) and keeps the state (the
 * candidates' rows' features and the teacher's preference softmax((acc - 0.01 nll)/0.01))
 * in an aggregate that only grows. The batch taken at those rounds is the teacher's best with
 * probability --dagger-beta^episode, else the policy's. After each episode the policy is
 * refitted on the whole aggregate: 20 full-batch Adam steps on the mean listwise loss
 * (policy_listwise: a batch's score is its rows' mean score less λ(gates) times its
 * redundancy, the mean largest cosine similarity of its rows' embeddings to one another, so
 * the penalty is learned from the teacher's preferences; its temperature, from 0.1, learned
 * alongside) plus an L2 (1e-2) toward the init. Candidates of the same rows count once. Cost: one episode is a run plus up to 6
 * refits per teacher round.
 *
 * --algo reinforce: the batch is drawn from the Plackett–Luce distribution of the policy's
 * scores (per row: no diversity penalty, whose λ stays 0). The reward of a round is the gain in accuracy on the reward split that its batch
 * brought (default), or the seed formulation: the mean loss of the picked rows under the
 * model that picked them plus α·log π of the batch. REINFORCE with a moving-average baseline
 * per (training dataset, round), seeded by each dataset's first episode (which makes no
 * update), and an entropy bonus; the gradients of --reinforce-batch episodes are averaged
 * into one Adam step.
 *
 * After every episode a training state file (OUT.state: the policy, Adam moments, baselines,
 * the pending REINFORCE gradient, DAgger's aggregate and temperature, the episode count, a
 * hash of the options) and then the policy file are written atomically, so a killed training
 * continues where it stopped when started again with the same options (from the state, which
 * is never behind the policy file). Everything random derives from (seed, episode, round):
 * training is deterministic under a seed.
 */
#ifndef ALSIM_TRAIN_POLICY_H
#define ALSIM_TRAIN_POLICY_H

/* alsim train-policy --train D1[+D2..] --episodes N --out FILE [options].
 * Returns an exit code (DESIGN.md §5). */
int cmd_train_policy(int argc, char **argv);

#endif
