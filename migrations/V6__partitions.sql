-- A release is committed here first and then carried out at Twilio, without
-- the clinic locked while Twilio answers: this marks the numbers Twilio has
-- not confirmed yet, for the reconciler to finish if the process dies or
-- Twilio's answer is lost.
ALTER TABLE numbers ADD COLUMN twilio_release_pending boolean NOT NULL DEFAULT false;
CREATE INDEX numbers_unfinished ON numbers (updated_at)
    WHERE lifecycle = 'pending' OR twilio_release_pending;
