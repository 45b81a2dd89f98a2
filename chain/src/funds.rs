//! Moving tokens. Every balance change goes through [`State::transfer`] (or the penalty and
//! vesting helpers built on it), which checks the source can pay and records an [`Event`]: so
//! the supply invariant holds by construction and every change is auditable.

use crate::state::State;
use strata_chain_client::types::{Epoch, MinerId};
use strata_chain_client::views::{Event, Pot};
use strata_chain_client::{ChainError, Token};

impl State {
    fn pot_mut(&mut self, pot: Pot) -> Result<&mut Token, ChainError> {
        Ok(match pot {
            Pot::Balance(a) => &mut self.accounts.entry(a).or_default().balance,
            Pot::Escrow(a) => &mut self.accounts.entry(a).or_default().escrow_free,
            Pot::EscrowLocked(a) => &mut self.accounts.entry(a).or_default().escrow_locked,
            Pot::MinerAvailable(m) => &mut self.miner_mut(m)?.available,
            Pot::MinerPrecommit(m) => &mut self.miner_mut(m)?.precommit_deposits,
            Pot::MinerPledge(m) => &mut self.miner_mut(m)?.locked_pledge,
            Pot::MinerEscrow(m) => &mut self.miner_mut(m)?.escrow_free,
            Pot::MinerEscrowLocked(m) => &mut self.miner_mut(m)?.escrow_locked,
            Pot::FeeDebt(m) => &mut self.miner_mut(m)?.fee_debt,
            Pot::Endowment => &mut self.endowment.pool,
            Pot::EndowmentUpfront => &mut self.endowment.upfront,
            Pot::MinerVesting(_) | Pot::Mint | Pot::Burn => {
                return Err(ChainError::internal(format!(
                    "{pot:?} is not a plain balance"
                )))
            }
        })
    }

    /// The miner, or a not-found error naming it.
    pub fn miner_mut(&mut self, m: MinerId) -> Result<&mut crate::state::Miner, ChainError> {
        self.miners
            .get_mut(&m)
            .ok_or_else(|| ChainError::not_found(format!("miner m{m} does not exist")))
    }

    /// The balance of a plain pot (0 for vesting, mint and burn).
    pub fn pot_balance(&self, pot: Pot) -> Token {
        let acc = |a| self.accounts.get(a).cloned().unwrap_or_default();
        let m = |id| self.miners.get(id);
        match pot {
            Pot::Balance(a) => acc(&a).balance,
            Pot::Escrow(a) => acc(&a).escrow_free,
            Pot::EscrowLocked(a) => acc(&a).escrow_locked,
            Pot::MinerAvailable(id) => m(&id).map(|m| m.available).unwrap_or_default(),
            Pot::MinerPrecommit(id) => m(&id).map(|m| m.precommit_deposits).unwrap_or_default(),
            Pot::MinerPledge(id) => m(&id).map(|m| m.locked_pledge).unwrap_or_default(),
            Pot::MinerVesting(id) => m(&id).map(|m| m.vesting_total()).unwrap_or_default(),
            Pot::MinerEscrow(id) => m(&id).map(|m| m.escrow_free).unwrap_or_default(),
            Pot::MinerEscrowLocked(id) => m(&id).map(|m| m.escrow_locked).unwrap_or_default(),
            Pot::FeeDebt(id) => m(&id).map(|m| m.fee_debt).unwrap_or_default(),
            Pot::Endowment => self.endowment.pool,
            Pot::EndowmentUpfront => self.endowment.upfront,
            Pot::Mint | Pot::Burn => Token::ZERO,
        }
    }

    /// Moves `amount` from one pot to another, recording the event. Fails (changing nothing)
    /// if the source cannot pay. `Mint` as the source mints; `Burn` as the target burns.
    pub fn transfer(
        &mut self,
        from: Pot,
        to: Pot,
        amount: Token,
        why: &str,
    ) -> Result<(), ChainError> {
        if amount.is_zero() {
            return Ok(());
        }
        match from {
            Pot::Mint => self.supply.minted = Token(self.supply.minted.0 + amount.0),
            Pot::Burn | Pot::MinerVesting(_) => {
                return Err(ChainError::internal(format!("cannot pay from {from:?}")))
            }
            _ => {
                let src = self.pot_mut(from)?;
                let left = src.checked_sub(amount).ok_or_else(|| {
                    ChainError::insufficient(format!(
                        "{why}: needs {amount}, {} holds {}",
                        describe(from),
                        *src
                    ))
                })?;
                *src = left;
            }
        }
        match to {
            Pot::Burn => self.supply.burnt = Token(self.supply.burnt.0 + amount.0),
            Pot::Mint | Pot::MinerVesting(_) => {
                return Err(ChainError::internal(format!(
                    "cannot pay into {to:?} directly"
                )))
            }
            _ => {
                let dst = self.pot_mut(to)?;
                *dst = Token(dst.0 + amount.0);
            }
        }
        self.record(from, to, amount, why);
        Ok(())
    }

    fn record(&mut self, from: Pot, to: Pot, amount: Token, why: &str) {
        self.events.push(Event {
            epoch: self.epoch + 1,
            from,
            to,
            amount,
            why: why.to_string(),
        });
    }

    /// Mints a block reward to miner `m`: 25% available at once, 75% vesting linearly over the
    /// vesting period in steps, starting one step after `now`.
    pub fn mint_reward(
        &mut self,
        m: MinerId,
        amount: Token,
        now: Epoch,
        period: i64,
        step: i64,
        why: &str,
    ) -> Result<(), ChainError> {
        let immediate = Token(amount.0 / 4);
        let locked = Token(amount.0 - immediate.0);
        self.transfer(Pot::Mint, Pot::MinerAvailable(m), immediate, why)?;
        let steps = (period / step).max(1) as u128;
        let miner = self.miner_mut(m)?;
        for k in 1..=steps {
            let share = if k == steps {
                locked.0 - (locked.0 / steps) * (steps - 1)
            } else {
                locked.0 / steps
            };
            let at = now + k as i64 * step;
            let e = miner.vesting.entry(at).or_default();
            *e = Token(e.0 + share);
        }
        self.supply.minted = Token(self.supply.minted.0 + locked.0);
        self.record(Pot::Mint, Pot::MinerVesting(m), locked, why);
        Ok(())
    }

    /// Releases vesting entries due at or before `now` to the miner's available balance.
    pub fn unlock_vested(&mut self, m: MinerId, now: Epoch) -> Result<(), ChainError> {
        let miner = self.miner_mut(m)?;
        let due: Vec<Epoch> = miner.vesting.range(..=now).map(|(e, _)| *e).collect();
        let amount: Token = due
            .iter()
            .map(|e| miner.vesting.remove(e).unwrap_or_default())
            .sum();
        if amount.is_zero() {
            return Ok(());
        }
        miner.available = Token(miner.available.0 + amount.0);
        self.record(
            Pot::MinerVesting(m),
            Pot::MinerAvailable(m),
            amount,
            "reward_vested",
        );
        Ok(())
    }

    /// Takes a penalty from miner `m` in Filecoin's order — vesting rewards first (soonest to
    /// vest first), then the available (unlocked) balance — and burns it; what cannot be paid
    /// becomes fee debt, repaid from future income before anything can be withdrawn. Locked
    /// pledge is never drawn: it backs live sectors (a sector's pledge is released to the
    /// available balance when it ends, and only then can a penalty reach it). Returns what was
    /// burnt now.
    pub fn penalize(&mut self, m: MinerId, amount: Token, why: &str) -> Result<Token, ChainError> {
        let mut left = amount.0;
        let miner = self.miner_mut(m)?;
        let mut from_vesting = 0u128;
        let keys: Vec<Epoch> = miner.vesting.keys().copied().collect();
        for k in keys {
            if left == 0 {
                break;
            }
            let v = miner.vesting.get_mut(&k).expect("key listed");
            let take = v.0.min(left);
            v.0 -= take;
            left -= take;
            from_vesting += take;
            if v.0 == 0 {
                miner.vesting.remove(&k);
            }
        }
        if from_vesting > 0 {
            self.supply.burnt = Token(self.supply.burnt.0 + from_vesting);
            self.record(Pot::MinerVesting(m), Pot::Burn, Token(from_vesting), why);
        }
        let take = self.pot_balance(Pot::MinerAvailable(m)).0.min(left);
        self.transfer(Pot::MinerAvailable(m), Pot::Burn, Token(take), why)?;
        left -= take;
        if left > 0 {
            let debt = &mut self.miner_mut(m)?.fee_debt;
            *debt = Token(debt.0 + left);
            self.record(
                Pot::MinerAvailable(m),
                Pot::FeeDebt(m),
                Token(left),
                &format!("{why} (unpaid: fee debt)"),
            );
        }
        Ok(Token(amount.0 - left))
    }

    /// Pays fee debt from the available balance, as far as it goes.
    pub fn repay_debt(&mut self, m: MinerId) -> Result<(), ChainError> {
        let miner = self.miner_mut(m)?;
        let pay = miner.fee_debt.0.min(miner.available.0);
        if pay == 0 {
            return Ok(());
        }
        miner.fee_debt = Token(miner.fee_debt.0 - pay);
        self.transfer(
            Pot::MinerAvailable(m),
            Pot::Burn,
            Token(pay),
            "fee_debt_repaid",
        )
    }
}

fn describe(p: Pot) -> String {
    match p {
        Pot::Balance(a) => format!("account {a}"),
        Pot::Escrow(a) => format!("the free escrow of {a}"),
        Pot::EscrowLocked(a) => format!("the locked escrow of {a}"),
        Pot::MinerAvailable(m) => format!("miner m{m}'s available balance"),
        Pot::MinerPrecommit(m) => format!("miner m{m}'s pre-commit deposits"),
        Pot::MinerPledge(m) => format!("miner m{m}'s locked pledge"),
        Pot::MinerVesting(m) => format!("miner m{m}'s vesting funds"),
        Pot::MinerEscrow(m) => format!("miner m{m}'s free escrow"),
        Pot::MinerEscrowLocked(m) => format!("miner m{m}'s locked escrow"),
        Pot::FeeDebt(m) => format!("miner m{m}'s fee debt"),
        Pot::Endowment => "the endowment pool".into(),
        Pot::EndowmentUpfront => "the held upfront shares".into(),
        Pot::Mint => "the mint".into(),
        Pot::Burn => "the burn".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Genesis;
    use crate::state::Miner;
    use strata_chain_client::views::SectorStatus;

    fn state_with_miner() -> State {
        let mut s = crate::exec::genesis_state(&Genesis::preset("devnet").unwrap());
        let a = crate::config::devnet_faucet().address();
        s.miners.insert(7, Miner::new(a, a, 1, String::new(), 0, 0));
        s
    }

    #[test]
    fn penalties_take_vesting_then_available_then_debt_never_pledge() {
        let mut s = state_with_miner();
        let a = crate::config::devnet_faucet().address();
        s.transfer(Pot::Balance(a), Pot::MinerAvailable(7), Token(1000), "t")
            .unwrap();
        s.transfer(Pot::MinerAvailable(7), Pot::MinerPledge(7), Token(300), "t")
            .unwrap();
        s.miners.get_mut(&7).unwrap().sectors.insert(
            1,
            crate::state::tests::sector(1, SectorStatus::Active, 300, 0),
        );
        s.mint_reward(7, Token(400), 0, 4, 1, "r").unwrap(); // 100 available, 300 vesting
        s.check_invariants().unwrap();
        s.events.clear();
        // 250 from vesting (soonest first).
        assert_eq!(s.penalize(7, Token(250), "f").unwrap(), Token(250));
        let m = &s.miners[&7];
        assert_eq!(m.vesting_total(), Token(50));
        assert_eq!(
            *m.vesting.keys().next().unwrap(),
            4,
            "the soonest entries went first"
        );
        // 50 vesting + 800 available, then 400 of debt; the 300 of pledge is not touched.
        assert_eq!(s.penalize(7, Token(1250), "g").unwrap(), Token(850));
        let m = &s.miners[&7];
        assert_eq!(
            (m.vesting_total(), m.locked_pledge, m.available, m.fee_debt),
            (Token(0), Token(300), Token(0), Token(400))
        );
        let froms: Vec<Pot> = s.events.iter().map(|e| e.from).collect();
        assert_eq!(
            froms,
            vec![
                Pot::MinerVesting(7),
                Pot::MinerVesting(7),
                Pot::MinerAvailable(7),
                Pot::MinerAvailable(7)
            ]
        );
        assert_eq!(s.events.last().unwrap().to, Pot::FeeDebt(7));
        s.check_invariants().unwrap();
        assert_eq!(s.supply.burnt, Token(1100));
        // Income repays the debt first.
        s.transfer(Pot::Balance(a), Pot::MinerAvailable(7), Token(450), "t")
            .unwrap();
        s.repay_debt(7).unwrap();
        assert_eq!(
            (s.miners[&7].available, s.miners[&7].fee_debt),
            (Token(50), Token(0))
        );
        s.check_invariants().unwrap();
        // A transfer the source cannot cover changes nothing.
        let before = s.clone();
        assert!(s
            .transfer(Pot::MinerAvailable(7), Pot::Burn, Token(51), "x")
            .is_err());
        assert_eq!(s, before);
    }
}
